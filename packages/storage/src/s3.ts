import { pipeline, Readable, Transform } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { logger } from "@sas/config";
import { assertValidKey, BlobNotFoundError, type BlobStorage, type ByteRange } from "./storage";

export interface S3StorageOptions {
  bucket: string;
  /** Prepended to every key (`team-a/`), so several installs can share one bucket. */
  prefix?: string;
  /** An S3-compatible server (MinIO, Ceph, R2...); unset means AWS S3. */
  endpoint?: string;
  region?: string;
  /** Unset: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`; self-hosted stores need it. */
  forcePathStyle?: boolean;
  /**
   * Streams are uploaded in parts of this size (S3's minimum is 5 MiB), several in flight, so an export
   * shard of any size is never held in memory whole.
   */
  partSizeBytes?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * Objects in one S3-compatible bucket. PUT (and a multipart upload's completion) makes an object visible
 * whole or not at all, which is the atomic-write promise of BlobStorage; a failed multipart upload is
 * aborted so no parts are left behind.
 */
export class S3Storage implements BlobStorage {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
    this.partSize = Math.max(MIN_PART_SIZE, options.partSizeBytes ?? 8 * 1024 * 1024);
    const config: S3ClientConfig = {
      region: options.region ?? "us-east-1",
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      // Newer SDKs add CRC32 trailers (aws-chunked bodies) to every upload; many S3-compatible servers
      // reject those, so checksums are sent and checked only where an operation requires them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    };
    this.client = new S3Client(config);
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return `${this.prefix}${key}`;
  }

  async put(key: string, data: Uint8Array | Readable): Promise<{ sizeBytes: number }> {
    const Key = this.objectKey(key);
    if (!(data instanceof Readable) && data.byteLength <= this.partSize) {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.byteLength }),
      );
      return { sizeBytes: data.byteLength };
    }
    let sizeBytes = 0;
    let body: Uint8Array | Readable = data;
    if (data instanceof Readable) {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sizeBytes += chunk.byteLength;
          done(null, chunk);
        },
      });
      // pipeline passes a source error on to the counter, so the upload fails (and is aborted) instead
      // of waiting for bytes that never come; the upload's own outcome is awaited below.
      pipeline(data, counter, () => {});
      body = counter;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: body },
      partSize: this.partSize,
      queueSize: 4,
      // The upload is aborted below instead: lib-storage's own abort replaces the upload's error with the
      // abort's when the abort fails too, and the upload's error is the one that says what went wrong.
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (error) {
      // A failed upload stops reading: the source is ended too, so its writer is not left waiting to drain.
      if (body instanceof Readable) body.destroy();
      if (upload.uploadId) await this.abortUpload(Key, upload.uploadId);
      throw error;
    }
    return { sizeBytes: data instanceof Readable ? sizeBytes : data.byteLength };
  }

  async get(key: string): Promise<Buffer> {
    const response = await this.send(key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
    );
    if (!response.Body) throw new Error(`storage: empty response body for ${key}`);
    return Buffer.from(await response.Body.transformToByteArray());
  }

  /**
   * The request starts when the stream is first read, and a range becomes S3's own `Range` header, so
   * a 1 MiB slice of a 10 GB shard moves 1 MiB. Destroying the stream aborts the request.
   */
  stream(key: string, range?: ByteRange): Readable {
    const objectKey = this.objectKey(key);
    const abort = new AbortController();
    const client = this.client;
    const bucket = this.bucket;
    const send = this.send.bind(this);
    async function* body(): AsyncGenerator<Buffer> {
      const response = await send(key, () =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: objectKey,
            Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          }),
          { abortSignal: abort.signal },
        ),
      );
      if (!response.Body) return;
      for await (const chunk of response.Body as AsyncIterable<Uint8Array>)
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    const readable = Readable.from(body(), { objectMode: false });
    readable.once("close", () => abort.abort());
    return readable;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async stat(key: string): Promise<{ sizeBytes: number; modifiedAt: Date } | null> {
    try {
      const head = await this.send(key, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
      );
      return { sizeBytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 deletes are idempotent: deleting a missing key succeeds, as on local disk.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** Drops a failed multipart upload's parts; a store that cannot abort keeps them (a lifecycle rule can expire them). */
  private async abortUpload(Key: string, UploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
    } catch (error) {
      logger("storage").warn({ key: Key, err: error }, "could not abort a failed multipart upload");
    }
  }

  /** Runs one request; a missing object becomes BlobNotFoundError, as on local disk. */
  private async send<T>(key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    error.name !== "NoSuchBucket" &&
    (error.name === "NoSuchKey" || error.name === "NotFound" || error.$metadata.httpStatusCode === 404)
  );
}
