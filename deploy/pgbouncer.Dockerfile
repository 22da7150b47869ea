# PgBouncer for docker-compose.yml's `pgbouncer` profile: Debian's package, the same PgBouncer 1.18
# that scripts/test-pgbouncer runs the tests through. It refuses to run as root, so it runs as a
# user of its own with a fixed uid, which the one-shot `pgbouncer-config` service hands the files to.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends pgbouncer postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 6432 --no-create-home --shell /usr/sbin/nologin verisyntra-pgbouncer
USER 6432
EXPOSE 6432
CMD ["pgbouncer", "/etc/pgbouncer/verisyntra/pgbouncer.ini"]
