"""ARQ worker: settings and job functions (thin: they call services in `spek/`)."""
