# The Kiln image: crawler, agent, server and CLI (`docker run kiln:local --help`).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates iptables zstd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kiln
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY src ./src
COPY bin ./bin
COPY hooks ./hooks
RUN npm install --no-audit --no-fund --ignore-scripts && npx tsc -b packages/shared packages/agent packages/crawler packages/server src && npm prune --omit=dev
ENTRYPOINT ["node", "/opt/kiln/bin/kiln.js"]
CMD ["--help"]
