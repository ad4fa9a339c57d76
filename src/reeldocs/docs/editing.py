"""People's changes to articles: title and text, every save kept as a revision, and the
proposals later jobs make for articles a person edited.

Requests run with the caller's rights: the database's policies let owners and editors
change articles and add revisions (as themselves), and members read them.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.auth.models import User
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid, NotFound, PreconditionFailed
from reeldocs.core.text import printable
from reeldocs.docs import service as docs
from reeldocs.docs.editing_limits import MAX_MARKDOWN_CHARACTERS, MAX_TITLE_CHARACTERS
from reeldocs.docs.matching import chapter_spans, pair_spans
from reeldocs.docs.models import Article, ArticleRevision, Chapter
from reeldocs.docs.schemas import ArticleOut
from reeldocs.jobs.models import ProcessingJob
from reeldocs.orgs.access import get_in_team
from reeldocs.videos.models import Video

NO_SUCH_ARTICLE = "This article does not exist, or it belongs to another team."
REPLACED = (
    "This article was replaced a moment ago, when its video was processed again: reload "
    "the docs and make your change there."
)


def etag(article: Article | docs.ArticleView) -> str:
    return f'"{article.id.hex[:12]}-{article.version}"'


def out(view: docs.ArticleView) -> ArticleOut:
    return ArticleOut.model_validate(view, from_attributes=True)


# ---- reading ----


async def _published(
    session: AsyncSession, actor: Actor, article_id: uuid.UUID, *, write: bool = False
) -> Article:
    """The article, once the caller may read it (change it, with `write`), locked for a
    change. Articles of a run still in progress are nobody's yet."""
    article = await get_in_team(session, actor, Article, article_id, "article", write=write)
    if article.status != "published":
        raise NotFound(NO_SUCH_ARTICLE)
    if write:
        # Read, check, then lock: FOR UPDATE only sees rows the caller may update, so a
        # viewer locking first would be told "not found" instead of "not allowed". The
        # video first, shared: publishing a new run locks it to decide which articles
        # people edited, so a save lands either before that (and is kept) or after.
        await session.execute(
            sa.select(Video.id).where(Video.id == article.video_id).with_for_update(read=True)
        )
        try:
            await session.refresh(article, with_for_update=True)
        except InvalidRequestError:
            raise NotFound(REPLACED) from None
    return article


async def view_of(session: AsyncSession, article: Article) -> docs.ArticleView:
    chapter = await session.get(Chapter, article.chapter_id)
    assert chapter is not None  # articles go with their chapter
    return docs.article_view(article, chapter.title, chapter.start_time)


async def get(session: AsyncSession, actor: Actor, article_id: uuid.UUID) -> docs.ArticleView:
    return await view_of(session, await _published(session, actor, article_id))


# ---- changing the text ----


def clean_title(title: str) -> str:
    cleaned = printable(title)
    if not cleaned:
        raise Invalid("An article needs a title: write a few words saying what it explains.")
    if len(cleaned) > MAX_TITLE_CHARACTERS:
        raise Invalid(
            f"This title has {len(cleaned)} characters; a title may have at most "
            f"{MAX_TITLE_CHARACTERS}. Shorten it and keep the rest for the text."
        )
    return cleaned


def check_markdown(markdown: str) -> str:
    if len(markdown) > MAX_MARKDOWN_CHARACTERS:
        raise Invalid(
            f"This text has {len(markdown):,} characters; an article may have at most "
            f"{MAX_MARKDOWN_CHARACTERS:,}. Split it into shorter articles."
        )
    if "\x00" in markdown:
        raise Invalid(
            "The text holds a NUL character, which cannot be stored: remove it and save again."
        )
    return markdown


def _require_current(article: Article, view: docs.ArticleView, if_match: str | None) -> None:
    """412 when the caller's copy (its ETag in `If-Match`) is no longer the article's."""
    if if_match is None:
        return
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in tags or etag(article) in tags:
        return
    raise PreconditionFailed(
        "Someone saved this article after you opened it. Compare your text with the saved "
        "one (in `article`), then save again with its ETag.",
        article=out(view).model_dump(mode="json"),
        etag=etag(article),
    )


async def update(
    session: AsyncSession,
    actor: Actor,
    article_id: uuid.UUID,
    *,
    title: str | None,
    markdown: str | None,
    if_match: str | None,
) -> docs.ArticleView:
    article = await _published(session, actor, article_id, write=True)
    _require_current(article, await view_of(session, article), if_match)
    new_title = article.title if title is None else clean_title(title)
    new_markdown = article.content_markdown if markdown is None else check_markdown(markdown)
    if (new_title, new_markdown) != (article.title, article.content_markdown):
        await write_text(
            session, article, new_title, new_markdown, source="edited", author_id=actor.user_id
        )
    return await view_of(session, article)


async def write_text(
    session: AsyncSession,
    article: Article,
    title: str,
    markdown: str,
    *,
    source: str,
    author_id: uuid.UUID | None,
    job_id: uuid.UUID | None = None,
) -> None:
    """Give a locked article a new title and text, as its next revision."""
    latest = (
        await session.execute(
            sa.select(sa.func.max(ArticleRevision.revision)).where(
                ArticleRevision.article_id == article.id
            )
        )
    ).scalar_one()
    session.add(
        ArticleRevision(
            org_id=article.org_id,
            article_id=article.id,
            revision=(latest or 0) + 1,
            source=source,
            author_id=author_id,
            job_id=job_id,
            title=title,
            content_markdown=markdown,
        )
    )
    # The chapter is the article's: its title is what the chapter list shows.
    await session.execute(
        sa.update(Chapter).where(Chapter.id == article.chapter_id).values(title=title)
    )
    await session.execute(
        sa.update(Article)
        .where(Article.id == article.id)
        .values(
            title=title,
            content_markdown=markdown,
            version=Article.version + 1,
            updated_at=sa.func.now(),
            edited=True,
        )
    )
    await session.flush()
    await session.refresh(article)
    if await _is_primary(session, article):
        await _mark_translations_stale(session, article)


async def _video_of(session: AsyncSession, article: Article) -> Video:
    video = await session.get(Video, article.video_id)
    assert video is not None  # articles go with their video
    return video


async def _is_primary(session: AsyncSession, article: Article) -> bool:
    return article.language == await docs.primary_language(
        session, await _video_of(session, article)
    )


async def _mark_translations_stale(session: AsyncSession, primary: Article) -> None:
    """The translations of this article's chapter no longer say what it says."""
    video = await _video_of(session, primary)
    rows = (
        await session.execute(
            sa.select(Article.id, Article.language, Chapter.start_time)
            .join(Chapter, Chapter.id == Article.chapter_id)
            .where(
                Article.video_id == primary.video_id,
                Article.run_id == primary.run_id,
                Article.status == "published",
            )
        )
    ).all()
    by_language: dict[str, list[tuple[uuid.UUID, float]]] = {}
    for article_id, language, start in rows:
        by_language.setdefault(language, []).append((article_id, start))
    end = float(video.duration_seconds or 0.0)
    own = chapter_spans(by_language.pop(primary.language, []), end)
    stale: list[uuid.UUID] = []
    for starts in by_language.values():
        paired = pair_spans(own, chapter_spans(starts, end))
        if primary.id in paired:
            stale.append(paired[primary.id])
    if stale:
        await session.execute(sa.update(Article).where(Article.id.in_(stale)).values(stale=True))


# ---- revisions ----


@dataclass(frozen=True)
class RevisionView:
    revision: int
    source: str
    author_email: str | None
    created_at: datetime
    title: str
    content_markdown: str


async def revisions(
    session: AsyncSession, actor: Actor, article_id: uuid.UUID
) -> list[RevisionView]:
    """The article's revisions, newest first."""
    article = await _published(session, actor, article_id)
    rows = await session.execute(
        sa.select(ArticleRevision, User.email)
        .outerjoin(User, User.id == ArticleRevision.author_id)
        .where(ArticleRevision.article_id == article.id)
        .order_by(ArticleRevision.revision.desc())
    )
    return [_revision_view(revision, email) for revision, email in rows]


def _revision_view(revision: ArticleRevision, email: str | None) -> RevisionView:
    return RevisionView(
        revision=revision.revision,
        source=revision.source,
        author_email=email,
        created_at=revision.created_at,
        title=revision.title,
        content_markdown=revision.content_markdown,
    )


async def _revision(session: AsyncSession, article: Article, number: int) -> RevisionView:
    row = (
        await session.execute(
            sa.select(ArticleRevision, User.email)
            .outerjoin(User, User.id == ArticleRevision.author_id)
            .where(ArticleRevision.article_id == article.id, ArticleRevision.revision == number)
        )
    ).first()
    if row is None:
        raise NotFound(
            f"This article has no revision {number}: its list of revisions shows the ones it has."
        )
    return _revision_view(row[0], row[1])


async def revision(
    session: AsyncSession, actor: Actor, article_id: uuid.UUID, number: int
) -> RevisionView:
    return await _revision(session, await _published(session, actor, article_id), number)


async def restore(
    session: AsyncSession, actor: Actor, article_id: uuid.UUID, number: int
) -> docs.ArticleView:
    """The revision's title and text become the article's, as a new revision."""
    article = await _published(session, actor, article_id, write=True)
    old = await _revision(session, article, number)
    if (old.title, old.content_markdown) != (article.title, article.content_markdown):
        await write_text(
            session,
            article,
            old.title,
            old.content_markdown,
            source="restored",
            author_id=actor.user_id,
        )
    return await view_of(session, article)


# ---- proposals ----


@dataclass(frozen=True)
class ProposalView:
    title: str
    content_markdown: str
    job_id: uuid.UUID | None
    diff: str


def unified_diff(current: str, proposed: str) -> str:
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            proposed.splitlines(keepends=True),
            fromfile="current",
            tofile="proposal",
        )
    )


def _no_proposal() -> NotFound:
    return NotFound("This article has no proposal: no job has offered new text for it.")


async def proposal(session: AsyncSession, actor: Actor, article_id: uuid.UUID) -> ProposalView:
    article = await _published(session, actor, article_id)
    if article.proposal_title is None or article.proposal_markdown is None:
        raise _no_proposal()
    return ProposalView(
        title=article.proposal_title,
        content_markdown=article.proposal_markdown,
        job_id=article.proposal_job_id,
        diff=unified_diff(article.content_markdown, article.proposal_markdown),
    )


async def _clear_proposal(session: AsyncSession, article: Article) -> None:
    """Drop the proposal. One that re-translated the current primary text was seen by a
    person, who decided: the translation is no longer stale either way."""
    retranslated = (
        article.proposal_job_id is not None
        and (
            await session.execute(
                sa.select(ProcessingJob.kind).where(ProcessingJob.id == article.proposal_job_id)
            )
        ).scalar_one_or_none()
        == "retranslate"
    )
    await session.execute(
        sa.update(Article)
        .where(Article.id == article.id)
        .values(
            proposal_title=None,
            proposal_markdown=None,
            proposal_job_id=None,
            proposal_created_at=None,
            stale=sa.false() if retranslated else Article.stale,
        )
    )
    await session.flush()
    await session.refresh(article)


async def accept(session: AsyncSession, actor: Actor, article_id: uuid.UUID) -> docs.ArticleView:
    article = await _published(session, actor, article_id, write=True)
    if article.proposal_title is None or article.proposal_markdown is None:
        raise _no_proposal()
    title, markdown, job_id = (
        article.proposal_title,
        article.proposal_markdown,
        article.proposal_job_id,
    )
    await _clear_proposal(session, article)
    if (title, markdown) != (article.title, article.content_markdown):
        await write_text(
            session,
            article,
            title,
            markdown,
            source="accepted",
            author_id=actor.user_id,
            job_id=job_id,
        )
    return await view_of(session, article)


async def reject(session: AsyncSession, actor: Actor, article_id: uuid.UUID) -> None:
    article = await _published(session, actor, article_id, write=True)
    if article.proposal_title is None:
        raise _no_proposal()
    await _clear_proposal(session, article)
