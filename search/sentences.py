"""Sentences: where a Japanese (or Latin) sentence ends, for snippets and for cutting long text."""

import re

# A sentence ends after 。！？ (or ! ?), with any closing brackets or quotes that follow.
SENTENCE_END = re.compile(r"[。！？!?]+[」』）)】]*")
