"""The GraphQL API: Strawberry types and resolvers that call the services in `spek/`."""
