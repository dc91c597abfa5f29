"""``python -m web``: serve the department desks and the token endpoint."""

from clientops_shared.serve import serve
from web.config import WebSettings

serve(WebSettings(), "web.bootstrap:build")
