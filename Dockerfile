# One image for web and workers. Build the GPU variant with:
#   docker compose --profile gpu build worker-gpu   (ONNXRUNTIME_NODE_INSTALL=cuda12)
FROM node:20.19-bookworm-slim

ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} \
    NEXT_TELEMETRY_DISABLED=1 \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY apps/web/package.json apps/web/
COPY packages/api/package.json packages/api/
COPY packages/auth/package.json packages/auth/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/launcher/package.json packages/launcher/
COPY packages/queue/package.json packages/queue/
COPY packages/sa1b/package.json packages/sa1b/
COPY packages/sam/package.json packages/sam/
COPY packages/storage/package.json packages/storage/
COPY workers/package.json workers/
COPY prisma prisma
COPY prisma.config.ts ./
RUN npm ci --include=dev --no-audit --no-fund

COPY . .
RUN node --import tsx packages/launcher/src/start.ts --build-only

VOLUME ["/data"]
EXPOSE 3000
CMD ["node", "--import", "tsx", "packages/launcher/src/start.ts", "--no-worker"]
