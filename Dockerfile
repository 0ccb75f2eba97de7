# The irsa harness: the `irsa` binary and the bundled scenarios. DynamoDB Local runs beside it
# (docker-compose.yml) and is reached with --dynamodb-endpoint, so this image needs no Java.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p irsa-harness --bin irsa

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/irsa /usr/local/bin/irsa
COPY scenarios /scenarios
ENV IRSA_STATE_DIR=/state \
    IRSA_CACHE_DIR=/cache
WORKDIR /work
ENTRYPOINT ["irsa"]
CMD ["--help"]
