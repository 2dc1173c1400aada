"""Sentence embeddings the reopen guard computed, kept so that a restart need not compute them again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ReopenEmbedding(Base):
    """One text's embedding by one model, keyed by the model and the text's SHA-256.

    Content-addressed and immutable: the same text embedded by the same model gives the same
    vector, so rows are shared by all AGs, never updated, and inserted with "on conflict do
    nothing" by concurrent writers. The text itself is not stored, only its digest. Rows of texts
    no AG uses any more stay (retention is left to a later data-protection change).
    """

    __tablename__ = "reopen_embeddings"

    # The embedder's key (model, dimension, package version), e.g. "use-multilingual-v3/512@0.2.1".
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    # SHA-256 (hex) of the text exactly as the guard embeds it (bot.services.reopen.text_digest).
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # float32, little-endian, L2-normalised: 2 KB for USE's 512 dimensions.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
