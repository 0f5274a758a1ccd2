"""``isf lsp``: a language server for .isf files over standard input and output (pygls).

A document belongs to the program of its folder (every ``.isf`` file directly in it, with their imports), as
for ``isf check``. After each change the program is checked again with the editors' unsaved text laid over
the files on disk (:func:`isfdsl.commands.pipeline.check_paths` with an overlay); files that did not change
are not parsed again (a memo of parsed files), and in one that did only the declarations and decision rows
the edit touched are (:mod:`isfdsl.syntax.incremental`), so diagnostics of a NordDRG-size folder come back
within a second after an edit, in its 2,000-row decision table too. The table analysis (shadowed rows, overlaps, gaps) runs when a
file is opened or saved, in a worker thread, never per keystroke; its report comes from the cache that `isf check`
and `isf build` share (:mod:`isfdsl.analysis.cache`, keyed by a hash of the lowered program), so an unchanged
program is not analysed again, in this session or the next. Its findings are shown with the sources they
were found for, until the next edit.

Diagnostics carry the same codes, messages and positions as ``isf check``; hover, definition, references,
completion, outline, formatting and rename answer from :mod:`isfdsl.lsp.index`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from isfdsl import __version__
from isfdsl.analysis.analyse import Report
from isfdsl.analysis.cache import AnalysisCache
from isfdsl.commands.fmt import formatted
from isfdsl.commands.pipeline import Checked, check_paths
from isfdsl.diagnostics import Collector, Diagnostic, Severity, Span
from isfdsl.lsp.index import KEYWORDS, Index, Place, Symbol, build_index
from isfdsl.syntax.incremental import IncrementalParser
from isfdsl.syntax.loader import Memo

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_KINDS = {
    "attribute": lsp.CompletionItemKind.Field, "pathway attribute": lsp.CompletionItemKind.Field,
    "derived feature": lsp.CompletionItemKind.Property, "code list": lsp.CompletionItemKind.Enum,
    "table": lsp.CompletionItemKind.Struct, "enumeration": lsp.CompletionItemKind.Enum,
    "member": lsp.CompletionItemKind.EnumMember, "group": lsp.CompletionItemKind.Constant,
    "catalogue": lsp.CompletionItemKind.Module, "decision table": lsp.CompletionItemKind.Class,
    "code system": lsp.CompletionItemKind.Module,
}
_SYMBOL_KINDS = {
    "attribute": lsp.SymbolKind.Field, "pathway attribute": lsp.SymbolKind.Field, "schema": lsp.SymbolKind.Struct,
    "derived feature": lsp.SymbolKind.Property, "code list": lsp.SymbolKind.Enum, "table": lsp.SymbolKind.Struct,
    "enumeration": lsp.SymbolKind.Enum, "member": lsp.SymbolKind.EnumMember, "group": lsp.SymbolKind.Constant,
    "catalogue": lsp.SymbolKind.Module, "decision table": lsp.SymbolKind.Class, "rule": lsp.SymbolKind.Method,
    "code system": lsp.SymbolKind.Namespace,
}
#: What rename may change: names that are only ever used as names (not codes, groups or rule ids).
RENAMABLE = {"code list", "derived feature", "table", "attribute", "pathway attribute", "enumeration", "member"}


@dataclass
class ProgramState:
    """The last check of one program folder: diagnostics, the index, and analysis reports by source hash."""

    root: Path
    checked: Checked | None = None
    index: Index | None = None
    memo: Memo = field(default_factory=dict)
    #: The parser that re-parses only the declarations and rows an edit changed.
    parser: IncrementalParser = field(default_factory=IncrementalParser)
    reports: dict[str, Report] = field(default_factory=dict)
    #: The hash of the sources last checked (None when they have errors) and those being analysed.
    digest: str | None = None
    analysing: set[str] = field(default_factory=set)
    published: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)


class IsfLanguageServer(LanguageServer):
    """The server: one :class:`ProgramState` per folder that holds an open document."""

    def __init__(self, cache: AnalysisCache | None = None) -> None:
        super().__init__("isf-lsp", __version__)
        self.programs: dict[Path, ProgramState] = {}
        #: Where analysis reports are kept across sessions (None: only in memory).
        self.cache = cache
        #: Set by the client's shutdown request: nothing is sent after it (a background analysis that
        #: ends later keeps its report in the cache only).
        self.stopping = False
        self._reporting = threading.local()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' report of an error outside a request, sent to the client — but not after shutdown,
        and not from inside a report: a transport that can no longer write (the client gone) would
        report its own failure again and again, each report a longer chained traceback on stderr, until
        a pipe nobody reads was full and the server hung."""
        if self.stopping or getattr(self._reporting, "active", False):
            return
        self._reporting.active = True
        try:
            super().report_server_error(error, source)
        finally:
            self._reporting.active = False

    # -- programs

    def state_for(self, uri: str) -> ProgramState | None:
        path = to_fs_path(uri)
        if path is None:
            return None
        root = Path(path).resolve().parent
        if root not in self.programs:
            self.programs[root] = ProgramState(root)
        return self.programs[root]

    def overlay(self) -> dict[Path, str]:
        out = {}
        for uri, doc in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path is not None:
                out[Path(path).resolve()] = doc.source
        return out

    def refresh(self, state: ProgramState, analyse: bool = False) -> None:
        """Check the program again (with the editors' text) and publish its diagnostics, with the table
        analysis' findings when a report for exactly these sources is at hand; with ``analyse``, get one
        in the background (:meth:`analyse_later`) when it is not."""
        with state.lock:
            checked = check_paths([str(state.root)], overlay=self.overlay(), memo=state.memo,
                                  parse=state.parser.parse_module)
            current = set(checked.sources.items())
            for key in [k for k in state.memo if (k[0].split("\0")[0], k[1]) not in current]:
                del state.memo[key]  # keep only what the program holds now
            for name in [n for n in state.parser.pieces if n not in checked.sources]:
                del state.parser.pieces[name]
            state.checked = checked
            if checked.models:
                state.index = build_index(checked.models[0], checked.sources)
            state.digest = digest = _digest(checked.sources) if checked.ok and checked.models else None
            self.publish_checked(state, checked)
            wanted = analyse and digest is not None and digest not in state.reports
        if wanted and digest is not None:
            self.analyse_later(state, checked, digest)

    def publish_checked(self, state: ProgramState, checked: Checked) -> None:
        """Publish ``checked``'s diagnostics and, when one is at hand for its sources, the analysis report's."""
        diags = list(checked.diags.items)
        report = state.reports.get(state.digest) if state.digest is not None else None
        if report is not None:
            found = Collector()
            report.report_into(found)
            diags.extend(found.items)
        self.publish(state, checked.sources, diags)

    def analyse_later(self, state: ProgramState, checked: Checked, digest: str) -> None:
        """Analyse the program of ``checked`` in a worker thread (the cache first: an unchanged program is
        not analysed again, across sessions too), then publish the findings if the sources are still
        ``digest``. Edits go on meanwhile: the lock is held only to store and publish."""
        with state.lock:
            if digest in state.analysing:
                return
            state.analysing.add(digest)

        def work() -> None:
            from isfdsl.analysis.analyse import analyse as run_analyses
            from isfdsl.ir.model import lower

            try:
                program = lower(checked.models[0])
                report = self.cache.analyse(program, False) if self.cache is not None \
                    else run_analyses(program, episodes=False)
                with state.lock:
                    state.reports = {digest: report}
                    if state.digest == digest and state.checked is not None:
                        self.publish_checked(state, state.checked)
            except Exception as exc:  # noqa: BLE001 (a defect of the analysis: said in the editor's log, never silent)
                if self.stopping:
                    return
                self.window_log_message(lsp.LogMessageParams(
                    type=lsp.MessageType.Error,
                    message=f"isf lsp: the table analysis failed ({type(exc).__name__}: {exc}); "
                            "diagnostics from checking are still shown\n" + traceback.format_exc()))
            finally:
                with state.lock:
                    state.analysing.discard(digest)

        self.thread_pool.submit(work)

    def publish(self, state: ProgramState, sources: dict[str, str], diags: list[Diagnostic]) -> None:
        if self.stopping:
            return
        by_uri: dict[str, list[lsp.Diagnostic]] = {}
        for name in sources:
            if name.endswith(".isf"):
                by_uri[_uri(name)] = []
        for d in sorted(set(diags), key=lambda d: (d.span.file, d.span.line, d.span.col, d.code)):
            by_uri.setdefault(_uri(d.span.file), []).append(_diagnostic(d))
        for uri in state.published - set(by_uri):
            by_uri[uri] = []
        state.published = {u for u, ds in by_uri.items() if ds}
        for uri, ds in sorted(by_uri.items()):
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=ds))

    def index_for(self, uri: str) -> tuple[Index, str] | None:
        state = self.state_for(uri)
        if state is None:
            return None
        if state.index is None:
            self.refresh(state)
        path = to_fs_path(uri)
        if state.index is None or path is None:
            return None
        return state.index, _name_in(state.index, Path(path))


def _digest(sources: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name, text in sorted(sources.items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def _uri(name: str) -> str:
    return from_fs_path(str(Path(name).resolve())) or name


def _name_in(index: Index, path: Path) -> str:
    """The name the program gives the file at ``path``."""
    resolved = path.resolve()
    for name in index.sources:
        if Path(name).resolve() == resolved:
            return name
    return str(path)


def _range(file_line: int, col: int, end_line: int, end_col: int) -> lsp.Range:
    return lsp.Range(lsp.Position(max(file_line - 1, 0), max(col - 1, 0)),
                     lsp.Position(max(end_line - 1, 0), max(end_col - 1, 0)))


def _span_range(s: Span) -> lsp.Range:
    end_line = s.end_line or s.line
    end_col = s.end_col if s.end_line else s.col + 1
    return _range(s.line, s.col, end_line, max(end_col, s.col + 1) if end_line == s.line else end_col)


def _place_range(p: Place) -> lsp.Range:
    return _range(p.line, p.col, p.line, p.end_col)


def _diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=_span_range(d.span), message=d.message + "".join(f"\nnote: {n}" for n in d.notes), code=d.code,
        source="isf", severity=lsp.DiagnosticSeverity.Error if d.severity is Severity.ERROR else lsp.DiagnosticSeverity.Warning)


def _location(p: Place) -> lsp.Location:
    return lsp.Location(uri=_uri(p.file), range=_place_range(p))


def _word(server: IsfLanguageServer, uri: str, pos: lsp.Position) -> tuple[Index, str] | None:
    found = server.index_for(uri)
    if found is None:
        return None
    index, name = found
    word = index.at(name, pos.line + 1, pos.character + 1)
    return (index, word) if word else None


def make_server(cache: AnalysisCache | None = None) -> IsfLanguageServer:
    """A server with every feature registered (a new one per call: the tests start several), keeping
    analysis reports in ``cache``."""
    server = IsfLanguageServer(cache)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: IsfLanguageServer, params: None) -> None:
        ls.stopping = True

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: IsfLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        state = ls.state_for(params.text_document.uri)
        if state is not None:
            ls.refresh(state, analyse=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: IsfLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        state = ls.state_for(params.text_document.uri)
        if state is not None:
            ls.refresh(state)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: IsfLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        state = ls.state_for(params.text_document.uri)
        if state is not None:
            ls.refresh(state, analyse=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: IsfLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        state = ls.state_for(params.text_document.uri)
        if state is not None:
            ls.refresh(state)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: IsfLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        found = _word(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        index, word = found
        parts = [s.doc for s in index.symbols.get(word, [])]
        if not parts:
            lists = index.lists_of(word)
            if lists:
                described = next((e.description for e, _ in lists if e.description and e.kind == "code"), None) \
                    or next((e.description for e, _ in lists if e.description), None)
                parts.append(f"**code** `{word}`" + (f" — {described}" if described else "") + "\n\nin "
                             + ", ".join(f"`{owner}` (`{e.text}`)" for e, owner in lists))
        if not parts:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: IsfLanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        found = _word(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        index, word = found
        return [_location(s.place) for s in index.symbols.get(word, [])] or None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: IsfLanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        found = _word(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        index, word = found
        declared = {s.place for s in index.symbols.get(word, [])}
        return [_location(p) for p in index.uses.get(word, [])
                if params.context.include_declaration or p not in declared] or None

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["{", " ", ","]))
    def completion(ls: IsfLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        found = ls.index_for(params.text_document.uri)
        items: list[lsp.CompletionItem] = []
        if found is not None:
            index, name = found
            line = index.sources.get(name, "").splitlines()[params.position.line:params.position.line + 1]
            before = line[0][:params.position.character] if line else ""
            typed = re.search(r"[A-Za-z0-9_.]*$", before)
            prefix = typed.group() if typed else ""
            seen: set[str] = set()
            for sym_name, symbols in sorted(index.symbols.items()):
                s = symbols[0]
                if s.kind in _KINDS and sym_name.startswith(prefix) and sym_name not in seen:
                    seen.add(sym_name)
                    items.append(lsp.CompletionItem(label=sym_name, kind=_KINDS[s.kind], detail=s.detail,
                                                    documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=s.doc)))
            if prefix[:1].isupper():
                for code, description in index.codes(prefix):
                    if code not in seen:
                        items.append(lsp.CompletionItem(label=code, kind=lsp.CompletionItemKind.Value, detail=description))
            items.extend(lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Keyword)
                         for k in KEYWORDS if k.startswith(prefix) and k not in seen)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def outline(ls: IsfLanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
        found = ls.index_for(params.text_document.uri)
        if found is None:
            return []
        index, name = found
        mine = [s for symbols in index.symbols.values() for s in symbols if s.place.file == name]
        tops = sorted((s for s in mine if s.parent is None), key=lambda s: s.lines)
        out = []
        for top in tops:
            kids = sorted((s for s in mine if s.parent == top.name and top.lines[0] <= s.place.line <= top.lines[1]),
                          key=lambda s: s.place.line)
            out.append(_doc_symbol(top, [_doc_symbol(k, []) for k in kids]))
        return out

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: IsfLanguageServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        new, _ = formatted(doc.source, doc.path)
        if new is None or new == doc.source:
            return None
        lines = doc.source.split("\n")
        return [lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), lsp.Position(len(lines), 0)), new_text=new)]

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: IsfLanguageServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
        found = _word(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        index, word = found
        symbols = index.symbols.get(word, [])
        if not symbols or any(s.kind not in RENAMABLE for s in symbols):
            return None
        name = _name_in(index, Path(to_fs_path(params.text_document.uri) or ""))
        for p in index.uses.get(word, []):
            if p.file == name and p.line == params.position.line + 1 and p.col <= params.position.character + 1 <= p.end_col:
                return _place_range(p)
        return None

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls: IsfLanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        found = _word(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        index, word = found
        symbols = index.symbols.get(word, [])
        if not symbols:
            return None
        if any(s.kind not in RENAMABLE for s in symbols):
            raise ValueError(f"`{word}` is a {symbols[0].kind}: only names of code lists, features, tables, attributes "
                             "and enumerations are renamed")
        if not _NAME.fullmatch(params.new_name) or params.new_name in KEYWORDS:
            raise ValueError(f"`{params.new_name}` is not a valid name (lower-case letters, digits and _; not a keyword)")
        if params.new_name in index.symbols:
            raise ValueError(f"`{params.new_name}` is already declared ({index.symbols[params.new_name][0].kind})")
        changes: dict[str, list[lsp.TextEdit]] = {}
        for p in index.uses.get(word, []):
            changes.setdefault(_uri(p.file), []).append(lsp.TextEdit(range=_place_range(p), new_text=params.new_name))
        return lsp.WorkspaceEdit(changes=changes)

    return server


def _doc_symbol(s: Symbol, children: list[lsp.DocumentSymbol]) -> lsp.DocumentSymbol:
    first, last = s.lines if s.lines != (0, 0) else (s.place.line, s.place.line)
    return lsp.DocumentSymbol(name=s.name, kind=_SYMBOL_KINDS.get(s.kind, lsp.SymbolKind.Object), detail=s.detail,
                              range=_range(first, 1, max(last, first) + 1, 1), selection_range=_place_range(s.place),
                              children=children or None)


def main(use_cache: bool = True) -> None:
    """Serve over standard input and output until the editor says exit; ``use_cache``: keep analysis
    reports in the cache folder (:mod:`isfdsl.analysis.cache`)."""
    make_server(AnalysisCache() if use_cache else None).start_io()
