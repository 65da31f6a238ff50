from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from spek.ids import parse_id
from spek.notebooks import models, service


@strawberry.type
class Page:
    id: strawberry.ID
    notebook_id: strawberry.ID
    section_id: strawberry.ID | None
    title: str
    content: str = strawberry.field(description="Markdown.")
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, page: models.Page) -> "Page":
        return from_row(cls, page, tags=[tag.name for tag in page.tags])


@strawberry.type
class Section:
    id: strawberry.ID
    notebook_id: strawberry.ID
    title: str
    position: int
    pages: list[Page]

    @classmethod
    def from_model(cls, section: models.Section) -> "Section":
        return from_row(cls, section, pages=[Page.from_model(p) for p in section.pages])


@strawberry.type
class Notebook:
    id: strawberry.ID
    title: str
    description: str | None
    sections: list[Section]
    pages: list[Page] = strawberry.field(description="Every page of the notebook, in or out of a section.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, notebook: models.Notebook) -> "Notebook":
        return from_row(
            cls,
            notebook,
            sections=[Section.from_model(s) for s in notebook.sections],
            pages=[Page.from_model(p) for p in notebook.pages],
        )


@strawberry.type
class NotebooksQuery:
    @strawberry.field
    async def notebooks(self, info: Info) -> list[Notebook]:
        async with info.context.signed_in() as (session, user):
            return [Notebook.from_model(n) for n in await service.list_notebooks(session, user)]

    @strawberry.field
    async def notebook(self, info: Info, id: strawberry.ID) -> Notebook | None:
        async with info.context.signed_in() as (session, user):
            return Notebook.from_model(await service.get_notebook(session, user, parse_id(id)))

    @strawberry.field
    async def page(self, info: Info, id: strawberry.ID) -> Page | None:
        async with info.context.signed_in() as (session, user):
            return Page.from_model(await service.get_page(session, user, parse_id(id)))


@strawberry.type
class NotebooksMutation:
    @strawberry.mutation
    async def create_notebook(self, info: Info, title: str, description: str | None = None) -> Notebook:
        async with info.context.signed_in() as (session, user):
            return Notebook.from_model(await service.create_notebook(session, user, title, description))

    @strawberry.mutation
    async def update_notebook(
        self, info: Info, id: strawberry.ID, title: str | None = None, description: str | None = None
    ) -> Notebook:
        async with info.context.signed_in() as (session, user):
            notebook = await service.update_notebook(session, user, parse_id(id), title, description)
            return Notebook.from_model(notebook)

    @strawberry.mutation(description="Delete a notebook with its sections and pages.")
    async def delete_notebook(self, info: Info, id: strawberry.ID) -> bool:
        async with info.context.signed_in() as (session, user):
            return await service.delete_notebook(session, user, parse_id(id))

    @strawberry.mutation
    async def create_section(self, info: Info, notebook_id: strawberry.ID, title: str) -> Section:
        async with info.context.signed_in() as (session, user):
            section = await service.create_section(session, user, parse_id(notebook_id, "notebookId"), title)
            return Section.from_model(section)

    @strawberry.mutation
    async def create_page(
        self,
        info: Info,
        notebook_id: strawberry.ID,
        title: str,
        section_id: strawberry.ID | None = None,
        content: str | None = None,
        tags: list[str] | None = None,
    ) -> Page:
        async with info.context.signed_in() as (session, user):
            page = await service.create_page(
                session,
                info.context.services.redis,
                user,
                parse_id(notebook_id, "notebookId"),
                parse_id(section_id, "sectionId") if section_id is not None else None,
                title,
                content,
                tags,
            )
            return Page.from_model(page)

    @strawberry.mutation
    async def update_page(
        self,
        info: Info,
        id: strawberry.ID,
        title: str | None = None,
        content: str | None = None,
        tags: list[str] | None = None,
    ) -> Page:
        async with info.context.signed_in() as (session, user):
            return Page.from_model(
                await service.update_page(
                    session, info.context.services.redis, user, parse_id(id), title, content, tags
                )
            )

    @strawberry.mutation
    async def delete_page(self, info: Info, id: strawberry.ID) -> bool:
        async with info.context.signed_in() as (session, user):
            return await service.delete_page(session, user, parse_id(id))
