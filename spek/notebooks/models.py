import uuid

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spek.db import Base, IdMixin, TimestampMixin

page_tags = Table(
    "page_tags",
    Base.metadata,
    Column("page_id", ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(IdMixin, Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_tags_user_id_name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    color: Mapped[str] = mapped_column(String(7))


class Notebook(IdMixin, TimestampMixin, Base):
    __tablename__ = "notebooks"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    sections: Mapped[list["Section"]] = relationship(
        back_populates="notebook", order_by="Section.position", cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    pages: Mapped[list["Page"]] = relationship(
        back_populates="notebook", order_by="Page.created_at", cascade="all, delete-orphan", lazy="raise_on_sql"
    )


class Section(IdMixin, TimestampMixin, Base):
    __tablename__ = "sections"

    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    notebook: Mapped[Notebook] = relationship(back_populates="sections", lazy="raise_on_sql")
    pages: Mapped[list["Page"]] = relationship(
        back_populates="section", order_by="Page.created_at", lazy="raise_on_sql"
    )


class Page(IdMixin, TimestampMixin, Base):
    __tablename__ = "pages"

    notebook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")

    notebook: Mapped[Notebook] = relationship(back_populates="pages", lazy="raise_on_sql")
    section: Mapped[Section | None] = relationship(back_populates="pages", lazy="raise_on_sql")
    # A page is never shown without its tags: they always come with it.
    tags: Mapped[list[Tag]] = relationship(secondary=page_tags, order_by="Tag.name", lazy="selectin")
