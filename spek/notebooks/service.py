"""Notebooks, their sections and pages. Every query is scoped to the acting user."""

import hashlib
import uuid

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from spek import audit
from spek.accounts.models import User
from spek.errors import BadUserInput, NotFound
from spek.jobs.queue import enqueue_indexing
from spek.notebooks.models import Notebook, Page, Section, Tag
from spek.search import index
from spek.search.index import Passage
from spek.search.models import SearchKind

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_CONTENT_LENGTH = 1_000_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 64
TAG_COLORS = (
    "#e11d48",
    "#ea580c",
    "#ca8a04",
    "#16a34a",
    "#0d9488",
    "#0284c7",
    "#4f46e5",
    "#9333ea",
    "#db2777",
    "#64748b",
)


def clean_title(title: str, what: str = "title") -> str:
    title = title.strip()
    if not title:
        raise BadUserInput(f"The {what} must not be empty.")
    if len(title) > MAX_TITLE_LENGTH:
        raise BadUserInput(f"The {what} must be at most {MAX_TITLE_LENGTH} characters long.")
    return title


def _check_length(value: str | None, limit: int, what: str) -> None:
    if value is not None and len(value) > limit:
        raise BadUserInput(f"The {what} must be at most {limit} characters long.")


def tag_color(name: str) -> str:
    """A stable color per tag name, so the same tag looks the same everywhere."""
    return TAG_COLORS[hashlib.sha1(name.lower().encode()).digest()[0] % len(TAG_COLORS)]


def _notebook_query(user: User):
    return (
        select(Notebook)
        .where(Notebook.user_id == user.id)
        .options(
            selectinload(Notebook.sections).selectinload(Section.pages),
            selectinload(Notebook.pages),
        )
    )


async def list_notebooks(session: AsyncSession, user: User) -> list[Notebook]:
    return list((await session.execute(_notebook_query(user).order_by(Notebook.created_at))).scalars())


async def get_notebook(session: AsyncSession, user: User, notebook_id: uuid.UUID) -> Notebook:
    notebook = (await session.execute(_notebook_query(user).where(Notebook.id == notebook_id))).scalar_one_or_none()
    if notebook is None:
        raise NotFound(f"Notebook {notebook_id} not found.")
    return notebook


async def create_notebook(session: AsyncSession, user: User, title: str, description: str | None) -> Notebook:
    _check_length(description, MAX_DESCRIPTION_LENGTH, "description")
    notebook = Notebook(user_id=user.id, title=clean_title(title), description=description)
    session.add(notebook)
    await session.flush()
    audit.record(session, user.id, "notebook.create", "notebook", notebook.id)
    await session.commit()
    return await get_notebook(session, user, notebook.id)


async def update_notebook(
    session: AsyncSession, user: User, notebook_id: uuid.UUID, title: str | None, description: str | None
) -> Notebook:
    notebook = await get_notebook(session, user, notebook_id)
    if title is not None:
        notebook.title = clean_title(title)
    if description is not None:
        _check_length(description, MAX_DESCRIPTION_LENGTH, "description")
        notebook.description = description
    audit.record(session, user.id, "notebook.update", "notebook", notebook.id)
    await session.commit()
    return await get_notebook(session, user, notebook_id)


async def delete_notebook(session: AsyncSession, user: User, notebook_id: uuid.UUID) -> bool:
    notebook = await get_notebook(session, user, notebook_id)
    await session.delete(notebook)
    await index.remove_parent(session, SearchKind.PAGE, notebook_id)
    audit.record(session, user.id, "notebook.delete", "notebook", notebook_id, title=notebook.title)
    await session.commit()
    return True


async def create_section(session: AsyncSession, user: User, notebook_id: uuid.UUID, title: str) -> Section:
    notebook = await get_notebook(session, user, notebook_id)
    position = (
        await session.execute(select(func.count()).select_from(Section).where(Section.notebook_id == notebook.id))
    ).scalar_one()
    section = Section(notebook_id=notebook.id, title=clean_title(title), position=position)
    session.add(section)
    await session.flush()
    audit.record(session, user.id, "section.create", "section", section.id)
    await session.commit()
    return (
        await session.execute(select(Section).where(Section.id == section.id).options(selectinload(Section.pages)))
    ).scalar_one()


async def get_page(session: AsyncSession, user: User, page_id: uuid.UUID) -> Page:
    page = (
        await session.execute(
            select(Page)
            .join(Notebook)
            .where(Page.id == page_id, Notebook.user_id == user.id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if page is None:
        raise NotFound(f"Page {page_id} not found.")
    return page


async def resolve_tags(session: AsyncSession, user: User, names: list[str]) -> list[Tag]:
    cleaned: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            raise BadUserInput("Tags must not be empty.")
        if len(name) > MAX_TAG_LENGTH:
            raise BadUserInput(f"A tag must be at most {MAX_TAG_LENGTH} characters long.")
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise BadUserInput(f"A page can have at most {MAX_TAGS} tags.")
    existing = {
        tag.name: tag
        for tag in (await session.execute(select(Tag).where(Tag.user_id == user.id, Tag.name.in_(cleaned)))).scalars()
    }
    tags = []
    for name in cleaned:
        if name not in existing:
            existing[name] = Tag(user_id=user.id, name=name, color=tag_color(name))
            session.add(existing[name])
        tags.append(existing[name])
    return tags


async def _index_page(session: AsyncSession, user: User, page: Page) -> None:
    """Searchable by its words at once (the database keeps the text vector), by meaning once embedded."""
    passage = Passage(page.id, f"{page.title}\n\n{page.content}".strip())
    await index.put_entry(session, user.id, SearchKind.PAGE, page.notebook_id, page.title, passage)


async def create_page(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    notebook_id: uuid.UUID,
    section_id: uuid.UUID | None,
    title: str,
    content: str | None,
    tags: list[str] | None,
) -> Page:
    notebook = await get_notebook(session, user, notebook_id)
    if section_id is not None and section_id not in {s.id for s in notebook.sections}:
        raise NotFound(f"Section {section_id} not found in notebook {notebook_id}.")
    _check_length(content, MAX_CONTENT_LENGTH, "content")
    page = Page(
        notebook_id=notebook.id,
        section_id=section_id,
        title=clean_title(title),
        content=content or "",
        tags=await resolve_tags(session, user, tags or []),
    )
    session.add(page)
    await session.flush()
    await _index_page(session, user, page)
    audit.record(session, user.id, "page.create", "page", page.id)
    await session.commit()
    await enqueue_indexing(queue, user.id)
    return page


async def update_page(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    page_id: uuid.UUID,
    title: str | None,
    content: str | None,
    tags: list[str] | None,
) -> Page:
    page = await get_page(session, user, page_id)
    if title is not None:
        page.title = clean_title(title)
    if content is not None:
        _check_length(content, MAX_CONTENT_LENGTH, "content")
        page.content = content
    if tags is not None:
        page.tags = await resolve_tags(session, user, tags)
    await _index_page(session, user, page)
    audit.record(session, user.id, "page.update", "page", page.id)
    await session.commit()
    await enqueue_indexing(queue, user.id)
    return await get_page(session, user, page_id)


async def delete_page(session: AsyncSession, user: User, page_id: uuid.UUID) -> bool:
    page = await get_page(session, user, page_id)
    await session.delete(page)
    await index.remove(session, page_id)
    audit.record(session, user.id, "page.delete", "page", page_id, title=page.title)
    await session.commit()
    return True
