# The production image: dist/ (built in the first stage) beside the runtime dependencies only.
# test/production-install.test.ts reads this file and runs its steps (COPY, RUN, ENV, CMD, HEALTHCHECK) on this
# machine, so the image and the test cannot drift apart.

# Node 24: the current LTS line; slim is Debian without compilers or curl. Pinned by digest (the multi-arch
# index's) so a rebuild gets the same base until someone decides otherwise; the tag is kept for readers. Both
# stages use the same one. To refresh by hand: `docker buildx imagetools inspect node:24-slim` prints the
# index digest; Dependabot (.github/dependabot.yml) or Renovate proposes the bump as a pull request.
FROM node:24-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build.mjs scripts/
COPY src src
RUN npm run build

FROM node:24-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no runtime dependency needs an install script (package.json's allowScripts lists them).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
# The image's unprivileged user (uid 1000): the server needs no privilege, and cannot rewrite its own code.
USER node
# GraphQL on PORT (4000), Prometheus metrics on METRICS_PORT (9464).
EXPOSE 4000 9464
# /ready answers 200 once the server listens and 503 while it drains; slim images have no curl, node does it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT||4000}/ready`).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/server.js"]
