# Sluice: the editor, API and local executor in one container (`sluice start`).
# Node 24 LTS (Node 20 reached end of life in April 2026; CI runs the suite on both).
FROM node:24-bookworm-slim
WORKDIR /app
# better-sqlite3 compiles against Node's headers when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci runs the `prepare` script, which builds dist/ once the sources are there (below); here it finds none.
COPY scripts/build-engine.cjs scripts/build-stamp.cjs scripts/
RUN npm ci --no-audit --no-fund
COPY . .
# The engine (CLI, worker, block process) to dist/, then the Next app.
RUN node scripts/build-engine.cjs && npx next build
ENV SLUICE_HOME=/data
VOLUME ["/data", "/app/pipelines"]
EXPOSE 3000
# Bound beyond loopback inside the container, so a token is required: pass SLUICE_TOKEN.
CMD ["node", "bin/sluice.cjs", "start", "--host", "0.0.0.0", "--port", "3000"]
