"""Descriptions: what the server, its tools, their arguments and its resources say to a model.

Written for a model choosing a tool and its arguments: the query syntax with the Japanese examples
that matter, when a question works better than keywords, how to read around a hit and how to cite.
"""

from __future__ import annotations

from search.mcp.library import PART_CHARS, URI_TEMPLATE

INSTRUCTIONS = """\
kensaku searches the user's own documents (a folder of Japanese text, PDF, Word, HTML, Markdown \
and EPUB files) and answers with paragraphs cited by file and line, or by page for a PDF. To \
answer from them: `search` (keywords or a question, in the documents' own language, usually \
Japanese), then `read` the hits you use, with their context, then quote and cite each as its \
citation says: `file:line`, or `file p.N` for a PDF. `documents` lists what the index holds; \
`status` says whether it is up to date. Say so when the documents do not hold an answer."""

SEARCH = """\
Search the user's documents for paragraphs, best first. Each hit has the whole paragraph (`text`), \
a `snippet` around the matches and its `citation`: `cite` is `file:line`, or `file p.N` for a page \
of a PDF, to give with anything you take from it.

Two ways to ask:
- Keywords, in the query syntax. Words apart must all match: `ピラー2 韓国`. A run without \
spaces is a phrase: `統合作戦司令部` (its parts `司令`, `作戦` find it too). `"日米 同盟"` is a \
quoted phrase, spaces and all; `ピラー1 OR ピラー2` either; `ピラー2 -韓国` (or \
`ピラー2 NOT 韓国`) leaves out 韓国; parentheses group: `(ピラー1 OR ピラー2) 韓国`. Operators \
are upper case. Matching is on normalized words: `AI` finds ＡＩ, `コンピューター` finds \
コンピュータ, `3` finds 三, kana find the words read that way (`とうごう` finds 統合). Use the \
documents' words, in Japanese for Japanese documents (防衛, not defense).
- A question, written as a sentence: it ends in ？ or 。, or has a question word such as 何, どこ, \
いつ, なぜ (`日本で梅雨がないのは北海道とどこか。`). Any of its content words may match, and \
paragraphs are ranked by how well they could answer it. Ask a question when you want an answer \
and do not know how the documents word it; use keywords for a name, a term or a phrase that must \
appear. `mode` forces either reading.

When fewer paragraphs hold all the keywords than `limit`, paragraphs holding some of them follow, \
each marked `partial`; `relaxed` says that none held them all. `source` keeps documents whose path \
starts with it (a folder, `報告書/2024/`) or, with * and ?, matches it whole (`*.pdf`), for \
keywords and questions alike. Page on with `offset` (`next_offset` when more follow).

Before quoting a hit, `read` its paragraph to see it in context. A bad query comes back as an \
error saying in one line what is wrong (`unbalanced quote: …`): fix the query and search again."""

READ = """\
Read paragraphs of a document to quote: paragraph `paragraph` (the number, ¶, that a hit's \
citation gives), or every paragraph on page `page` of a PDF, with `context` paragraphs before and \
after. Each paragraph comes with its citation (`file:line`, or `file p.N` for a PDF): quote the \
text exactly as given and cite it so. `source` is the document's path as a hit or `documents` \
gives it."""

DOCUMENTS = f"""\
List the documents the index holds, by path (`source`), with their titles, formats (text, \
markdown, html, pdf, docx, epub), paragraphs and, for a PDF, pages; `limit` at a time from \
`offset`. `source` keeps those whose path starts with it (a folder, `報告書/2024/`) or, with * and \
?, matches it whole (`*.pdf`). Each document's text is also the resource {URI_TEMPLATE}."""

STATUS = """\
How the index stands: the documents and paragraphs it holds and their folder, when it was built \
and last updated, whether it holds the documents as they are now (how many were added, changed or \
removed since) and whether the server is updating it. Call it when a search finds less than you \
expect."""

DOCUMENT_RESOURCE = f"""\
A document's text as the index holds it: each paragraph after a tag giving its number and its line \
(or its page, for a PDF), from which to cite it (`file:line`, `file p.N`). A long document comes \
in parts of about {PART_CHARS:,} characters, whole paragraphs: `?part=2` and on; each part names \
the next."""

QUERY = "keywords in the query syntax, or a question written as a sentence"
LIMIT = "how many hits to return"
OFFSET = "how many of the best hits to skip: the next page starts at the last answer's next_offset"
MODE = (
    "auto (the default): a sentence is read as a question, anything else as keywords; "
    "keyword: the query syntax; question: any of its content words, ranked as answers"
)
SOURCE_PATTERN = (
    "only documents whose path starts with this (a folder: 報告書/2024/), or matches it whole "
    "with * and ? (*.pdf)"
)
SOURCE = "the document's path, as a hit's citation or the documents tool gives it"
PARAGRAPH = "the paragraph's number (¶) in its document, as a hit's citation gives it"
PAGE = "a page of a PDF, from 1: all its paragraphs"
CONTEXT = "how many paragraphs before and after to return with it"
DOCUMENTS_LIMIT = "how many documents to list"
DOCUMENTS_OFFSET = "how many documents to skip: the next page starts at next_offset"
