/**
 * A minimal, lossless protobuf wire-format reader/writer: just enough to edit an ONNX model without a
 * schema or a protobuf dependency. A message is parsed shallowly into its fields, each keeping the exact
 * bytes it was read from, so serialising an unedited message reproduces the input byte for byte, and
 * fields this code knows nothing about (or that use non-minimal varints) survive untouched.
 * Only the fields a caller explicitly replaces are re-encoded.
 */

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  Len: 2,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface ProtoField {
  /** Field number from the tag. */
  no: number;
  wireType: WireType;
  /**
   * The value: for Len the payload (without its length prefix), for Varint/Fixed32/Fixed64 the value's
   * own bytes as stored. A view into the source buffer, not a copy.
   */
  payload: Uint8Array;
  /** The whole field as stored (tag, length prefix, payload): what serialisation writes back. */
  raw: Uint8Array;
}

export class ProtobufError extends Error {
  override name = "ProtobufError";
}

interface VarintRead {
  value: number;
  next: number;
}

/**
 * Reads a varint as a JS number. Lengths and field numbers in an ONNX file fit in 2^53; larger values
 * (e.g. int64 attribute values) are only ever copied as raw bytes, never interpreted, so precision loss
 * there cannot corrupt a file.
 */
function readVarint(buf: Uint8Array, pos: number): VarintRead {
  let value = 0;
  let factor = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError(`truncated varint at byte ${pos}`);
    const b = buf[pos++]!;
    value += (b & 0x7f) * factor;
    if ((b & 0x80) === 0) return { value, next: pos };
    factor *= 128;
  }
  throw new ProtobufError(`varint longer than 10 bytes at byte ${pos}`);
}

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProtobufError(`cannot encode ${value} as an unsigned varint`);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Decodes a varint field's payload (unsigned; negative int64s come back as large numbers). */
export function varintValue(field: ProtoField): number {
  if (field.wireType !== WireType.Varint) throw new ProtobufError(`field ${field.no} is not a varint`);
  return readVarint(field.payload, 0).value;
}

/** Parses one message level. Nested messages stay as bytes until a caller parses their payload. */
export function parseMessage(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const tag = readVarint(buf, pos);
    pos = tag.next;
    const no = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (no === 0) throw new ProtobufError(`field number 0 at byte ${start}`);
    let payloadStart = pos;
    switch (wireType) {
      case WireType.Varint:
        pos = readVarint(buf, pos).next;
        break;
      case WireType.Fixed64:
        pos += 8;
        break;
      case WireType.Fixed32:
        pos += 4;
        break;
      case WireType.Len: {
        const len = readVarint(buf, pos);
        payloadStart = len.next;
        pos = len.next + len.value;
        break;
      }
      default:
        // Groups (3/4) are deprecated and never used by ONNX.
        throw new ProtobufError(`unsupported wire type ${wireType} for field ${no} at byte ${start}`);
    }
    if (pos > buf.length) throw new ProtobufError(`field ${no} at byte ${start} runs past the end`);
    fields.push({
      no,
      wireType: wireType as WireType,
      payload: buf.subarray(payloadStart, pos),
      raw: buf.subarray(start, pos),
    });
  }
  return fields;
}

export function serializeMessage(fields: readonly ProtoField[]): Uint8Array {
  let total = 0;
  for (const f of fields) total += f.raw.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const f of fields) {
    out.set(f.raw, pos);
    pos += f.raw.length;
  }
  return out;
}

/** Builds a new length-delimited field (sub-message, string or bytes), minimally encoded. */
export function lenField(no: number, payload: Uint8Array): ProtoField {
  const tag = encodeVarint(no * 8 + WireType.Len);
  const len = encodeVarint(payload.length);
  const raw = new Uint8Array(tag.length + len.length + payload.length);
  raw.set(tag, 0);
  raw.set(len, tag.length);
  raw.set(payload, tag.length + len.length);
  return { no, wireType: WireType.Len, payload: raw.subarray(tag.length + len.length), raw };
}

export function varintField(no: number, value: number): ProtoField {
  const tag = encodeVarint(no * 8 + WireType.Varint);
  const v = encodeVarint(value);
  const raw = new Uint8Array(tag.length + v.length);
  raw.set(tag, 0);
  raw.set(v, tag.length);
  return { no, wireType: WireType.Varint, payload: raw.subarray(tag.length), raw };
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function stringField(no: number, value: string): ProtoField {
  return lenField(no, utf8Encoder.encode(value));
}

export function messageField(no: number, fields: readonly ProtoField[]): ProtoField {
  return lenField(no, serializeMessage(fields));
}

export function fieldString(field: ProtoField): string {
  if (field.wireType !== WireType.Len) throw new ProtobufError(`field ${field.no} is not length-delimited`);
  return utf8Decoder.decode(field.payload);
}

/** All string values of a (repeated) string field. */
export function strings(fields: readonly ProtoField[], no: number): string[] {
  const out: string[] = [];
  for (const f of fields) if (f.no === no) out.push(fieldString(f));
  return out;
}

/** The first string value of a field, or undefined. */
export function firstString(fields: readonly ProtoField[], no: number): string | undefined {
  const f = fields.find((x) => x.no === no);
  return f ? fieldString(f) : undefined;
}
