"""``python -m field_ops``: serve the field_ops API, its consumer and its outbox relay."""

from clientops_shared.serve import serve
from field_ops.config import FieldOpsSettings

serve(FieldOpsSettings(), "field_ops.bootstrap:build")
