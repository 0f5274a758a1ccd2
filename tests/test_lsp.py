"""The language server, driven through a real LSP client (pygls) over stdio against `isf lsp`: diagnostics
as you type, hover, definition, references, completion, outline, formatting and rename on a copy of the
bundled definitions."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from .conftest import DEFINITIONS

T = TypeVar("T")


class Session:
    """A started server and a client with the diagnostics it was sent, per document."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.changed = asyncio.Event()
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        uri = from_fs_path(str(self.root / name))
        assert uri is not None
        return uri

    def open(self, name: str, text: str | None = None) -> str:
        uri = self.uri(name)
        self.versions[uri] = 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
            uri=uri, language_id="isf", version=1, text=(self.root / name).read_text(encoding="utf-8") if text is None else text)))
        return uri

    def edit(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)]))

    async def ask(self, request: Awaitable[T], timeout: float = 30) -> T:
        """The answer to a request, or a failure after ``timeout`` seconds (a server that never answers
        would otherwise hang the suite)."""
        return await asyncio.wait_for(request, timeout)

    async def until(self, ok: Callable[[], bool], timeout: float = 30) -> None:
        async def wait() -> None:
            while not ok():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), timeout)


@contextlib.asynccontextmanager
async def started(tmp_path: Path) -> AsyncIterator[Session]:
    """`isf lsp` started as editors start it, on a copy of the bundled 2025 definitions (made unless an
    earlier session made it)."""
    root = tmp_path / "isf2025"
    if not root.exists():
        shutil.copytree(DEFINITIONS / "isf2025", root)
    client = LanguageClient("isf-test", "1")
    s = Session(client, root)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        s.diagnostics[params.uri] = list(params.diagnostics)
        s.changed.set()

    await client.start_io(sys.executable, "-m", "isfdsl", "lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                       root_uri=from_fs_path(str(root))))
    client.initialized(lsp.InitializedParams())
    try:
        yield s
    finally:  # bounded: a server that does not answer fails the test instead of hanging the suite
        try:
            await asyncio.wait_for(client.shutdown_async(None), 30)
            client.exit(None)
            await asyncio.wait_for(client.stop(), 30)
        except BaseException:
            server = client._server  # pygls keeps the process private; a hung one must not outlive the test
            if server is not None and server.returncode is None:
                server.kill()
            raise


def _pos(text: str, needle: str, offset: int = 0) -> lsp.Position:
    at = text.index(needle) + offset
    line = text.count("\n", 0, at)
    return lsp.Position(line, at - (text.rfind("\n", 0, at) + 1))


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_diagnostics_as_you_type_then_cleared(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as s:
            text = (s.root / "drg.isf").read_text(encoding="utf-8")
            uri = s.open("drg.isf", text)
            await s.until(lambda: uri in s.diagnostics)
            assert s.diagnostics[uri] == []
            broken = text.replace("pdx in amd_macular_oedema", "pdx in amd_macular_oedem", 1)
            s.edit(uri, broken)
            await s.until(lambda: bool(s.diagnostics.get(uri)))
            [d] = [d for d in s.diagnostics[uri] if d.code == "ISF201"]
            assert "amd_macular_oedem" in d.message and "did you mean `amd_macular_oedema`" in d.message
            assert d.range.start == _pos(broken, "amd_macular_oedem")
            s.edit(uri, text)
            await s.until(lambda: s.diagnostics.get(uri) == [])
    run(go())


def test_hover_definition_references_completion_outline(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as s:
            text = (s.root / "drg.isf").read_text(encoding="utf-8")
            uri = s.open("drg.isf", text)
            await s.until(lambda: uri in s.diagnostics)
            doc = lsp.TextDocumentIdentifier(uri=uri)
            at = _pos(text, "amd_macular_oedema", 2)
            hover = await s.ask(s.client.text_document_hover_async(lsp.HoverParams(doc, at)))
            assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
            assert "**code list** `amd_macular_oedema` of `ICD10`" in hover.contents.value
            assert "`H35.3` — Degenerasjon av makula og bakre pol (AMD)" in hover.contents.value
            group = await s.ask(s.client.text_document_hover_async(lsp.HoverParams(doc, _pos(text, "-> 802U", 4))))
            assert group is not None and "**DRG 802U** Injeksjon av legemiddel i øyet" in group.contents.value  # type: ignore[union-attr]
            assert "points 0.1" in group.contents.value and "lead here" in group.contents.value  # type: ignore[union-attr]
            codes = (s.root / "codes.isf").read_text(encoding="utf-8")
            curi = s.open("codes.isf", codes)
            code = await s.ask(s.client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(curi), _pos(codes, "H35.3", 2))))
            assert code is not None and "**code** `H35.3` — Degenerasjon av makula" in code.contents.value  # type: ignore[union-attr]
            assert "`amd_macular_oedema`" in code.contents.value  # type: ignore[union-attr]

            found = await s.ask(s.client.text_document_definition_async(lsp.DefinitionParams(doc, at)))
            assert isinstance(found, list) and len(found) == 1
            assert found[0].uri == curi and found[0].range.start == _pos(codes, "amd_macular_oedema")

            refs = await s.ask(s.client.text_document_references_async(lsp.ReferenceParams(
                text_document=doc, position=at, context=lsp.ReferenceContext(include_declaration=True))))
            assert refs is not None
            where = {(r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs}
            want = {("codes.isf", _pos(codes, "codelist amd_macular_oedema").line)}
            want |= {("drg.isf", n) for n, line in enumerate(text.splitlines()) if "amd_macular_oedema" in line}
            assert want <= where

            start = _pos(text, "amd_macular_oedema")
            listed = await s.ask(s.client.text_document_completion_async(lsp.CompletionParams(doc, start)))
            assert isinstance(listed, lsp.CompletionList)
            labels = {i.label for i in listed.items}
            assert {"amd_macular_oedema", "pdx", "procedures", "802U", "anti_vegf_given", "male", "when"} <= labels
            typed = await s.ask(s.client.text_document_completion_async(lsp.CompletionParams(doc, at)))
            assert isinstance(typed, lsp.CompletionList)
            assert {"amd", "amd_macular_oedema"} <= {i.label for i in typed.items} and "pdx" not in {i.label for i in typed.items}
            s.edit(uri, text.replace("pdx in amd_macular_oedema", "pdx == H35", 1))
            coded = await s.ask(s.client.text_document_completion_async(lsp.CompletionParams(doc, _pos(text, "amd_macular_oedema", 3))))
            assert isinstance(coded, lsp.CompletionList)
            assert any(i.label == "H35.3" and "makula" in (i.detail or "") for i in coded.items)
            s.edit(uri, text)

            outline = await s.ask(s.client.text_document_document_symbol_async(lsp.DocumentSymbolParams(doc)))
            assert outline is not None
            names = {o.name for o in outline}  # type: ignore[union-attr]
            assert {"DRG", "drg"} <= names
            drg = next(o for o in outline if o.name == "DRG")  # type: ignore[union-attr]
            assert "802U" in {c.name for c in drg.children or []}  # type: ignore[union-attr]
    run(go())


def test_formatting_and_rename_across_files(tmp_path: Path) -> None:
    async def go() -> None:
        async with started(tmp_path) as s:
            codes = (s.root / "codes.isf").read_text(encoding="utf-8")
            messy = codes.replace("\n  H35.3", "\n        H35.3", 1)
            curi = s.open("codes.isf", messy)
            await s.until(lambda: curi in s.diagnostics)
            edits = await s.ask(s.client.text_document_formatting_async(lsp.DocumentFormattingParams(
                lsp.TextDocumentIdentifier(curi), lsp.FormattingOptions(tab_size=2, insert_spaces=True))))
            assert edits and edits[0].new_text == codes

            at = _pos(messy, "amd_macular_oedema", 1)
            edit = await s.ask(s.client.text_document_rename_async(lsp.RenameParams(
                lsp.TextDocumentIdentifier(curi), at, "amd_oedema")))
            assert edit is not None and edit.changes is not None
            files = {u.rsplit("/", 1)[-1]: len(e) for u, e in edit.changes.items()}
            drg = (s.root / "drg.isf").read_text(encoding="utf-8")
            assert files == {"codes.isf": 1, "drg.isf": drg.count("amd_macular_oedema")}
            with pytest.raises(Exception, match="already declared"):
                await s.ask(s.client.text_document_rename_async(lsp.RenameParams(lsp.TextDocumentIdentifier(curi), at, "cataract")))
    run(go())


def test_a_failing_analysis_is_said_in_the_editors_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect in the background analysis is logged to the editor with its traceback (it was silent),
    and the program can be analysed again later."""
    from concurrent.futures import Future
    from types import SimpleNamespace
    from typing import Any

    from isfdsl.lsp.server import IsfLanguageServer, ProgramState

    class Here:  # the worker thread, run at once
        def submit(self, work: Callable[[], None]) -> Future[None]:
            work()
            return Future()

    server = IsfLanguageServer()
    logged: list[lsp.LogMessageParams] = []
    monkeypatch.setattr(server, "window_log_message", logged.append)
    monkeypatch.setattr(IsfLanguageServer, "thread_pool", property(lambda self: Here()))
    state = ProgramState(tmp_path)
    broken: Any = SimpleNamespace(models=[])  # nothing to lower: the analysis fails
    server.analyse_later(state, broken, "digest")
    assert len(logged) == 1 and logged[0].type == lsp.MessageType.Error
    assert "the table analysis failed (IndexError" in logged[0].message and "Traceback" in logged[0].message
    assert state.analysing == set() and state.reports == {}


class _Closed:
    """A transport whose client is gone: every write fails as a closed stdout does."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        raise ValueError("I/O operation on closed file.")

    def close(self) -> None:
        pass


def test_a_transport_that_cannot_write_is_not_reported_again_and_again() -> None:
    """Reproduction (CI hang): a background analysis that ended after the client had gone sent its
    diagnostics; the failed write was reported to the client, that report failed and was reported, and
    so on, each time a longer chained traceback on stderr, until the pipe was full and the server hung.
    Now a failed write is reported once (which fails too) and that is all."""
    from isfdsl.lsp.server import make_server

    server = make_server()
    closed = _Closed()
    server.protocol.set_writer(closed)
    server.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Info, message="hello"))
    assert len(closed.writes) == 2  # the message, and one report of its failure


def test_nothing_is_sent_after_shutdown(tmp_path: Path) -> None:
    """After the client's shutdown request the server sends no diagnostics (an analysis finishing in the
    background keeps its report in the cache only)."""
    from isfdsl.lsp.server import ProgramState, make_server

    server = make_server()
    closed = _Closed()
    server.protocol.set_writer(closed)
    server.protocol.fm.features[lsp.SHUTDOWN](None)  # as pygls calls the server's handler
    assert server.stopping
    server.publish(ProgramState(tmp_path), {"a.isf": ""}, [])
    assert closed.writes == []
