"""What a running API process holds for its lifetime: built once at start-up, shared by every edge."""

from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.accounts.callers import Callers
from spek.accounts.service import TokenPolicy
from spek.accounts.tokens import AccessTokens
from spek.links import SignedLinks
from spek.ratelimits import RateLimits
from spek.search.query_embedder import QueryEmbedder
from spek.settings import Settings
from spek.storage import Storage


@dataclass
class Services:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis  # Redis, plus enqueueing ARQ jobs
    rate_limits: RateLimits
    token_policy: TokenPolicy
    callers: Callers  # the signed-in caller's row, kept between requests
    storage: Storage
    links: SignedLinks  # audioUrl, exportTranscript
    query_embedder: QueryEmbedder  # search by meaning

    @property
    def access_tokens(self) -> AccessTokens:
        return self.token_policy.access
