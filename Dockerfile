# Build
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --profile production --locked -p clinic-server && cp target/production/clinic /clinic

# Run
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/clinic --create-home clinic
COPY --from=build /clinic /usr/local/bin/clinic
USER clinic
WORKDIR /var/lib/clinic
ENV CLINIC_BIND=0.0.0.0:8080 DATABASE_URL=/var/lib/clinic/clinic.db
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["clinic"]
CMD ["serve"]
