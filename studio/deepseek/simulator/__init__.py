"""An offline, DeepSeek-compatible server for development, tests and benchmarks.

It speaks DeepSeek's exact wire format (keep-alive comments, ``reasoning_content``, the usage
chunk, ``[DONE]``, the error envelopes) and takes the fault directives the tests use
(``[[sim:error=503]]``, ``[[sim:tokens=N]]``…): see :mod:`.server`. Run it with
``python -m studio.deepseek.simulator --host 127.0.0.1 --port 8001 --tps 50``.

Its answers are offline stand-ins, but in the shape the studio's request asks for, read from
the request's messages and parameters only (:mod:`.brief`) and written by a few small
builders (:mod:`.writing`, :mod:`.rewriting`):

- a list of the requested number of items, each within the requested character limit
  ("Write 8 ad headlines… at most 40 characters", "写 8 条广告标题…不超过 20 个字") as the
  strictest platform counts it (Chinese 2, a link at least 23: :func:`.pen.width`), each
  ending with the call to action and link the request gives (a campaign's channel copy);
- a product description (headline, paragraph, benefits), an email (subject line, preview
  text, one call to action), a documentation section (heading, steps, a code block where the
  prompt asks for code), or a general article, about as long as asked ("about 150 words");
- the requested language: Chinese for "Write in 简体中文"/"用简体中文写作", for Chinese prompts
  and for "Translate … into Simplified Chinese"; English otherwise;
- "Fit to limits" (numbered ``<item n="N">`` with "Item N breaks: …"): each item repaired for
  the rules named (forbidden words and emoji out, a call to action or link added) and cut
  within the stated limit as :func:`.pen.width` counts, answered in the same tags
  (:mod:`.fitting`);
- rewrites of a ``<target>``: shorter is shorter, expand is longer, more formal is formal,
  translate changes language, each keeping the Markdown structure;
- the judge's JSON (``{"score": n, "reason": "…"}``), scores varying with the output;
- with a numbered ``<sources>`` block (a grounded template, :mod:`.citing`): the same shapes,
  their facts quoted from the passages given, each marked with its number (``[2]``); a
  documentation example shows the commands a passage gives. No other number is written.

The same messages, temperature and seed always give the same text; another temperature gives
other wording, so the two sides of an A/B pair differ.
"""

from .cli import main
from .pen import tokenize
from .server import CHAT_MODELS, LISTED_MODELS, create_app

__all__ = ["CHAT_MODELS", "LISTED_MODELS", "create_app", "main", "tokenize"]
