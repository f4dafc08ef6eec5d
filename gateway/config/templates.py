"""Messages Pronto itself sends (not the bot's), in every configured language, from
config/templates.yml. One key holds all languages of one message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.config.settings import load_yaml
from gateway.errors import ConfigError

REQUIRED = ("ack", "stop_confirm", "start_confirm", "help", "handoff_fallback_name")


class Templates:
    """Render a template in a language, falling back to English, then to the first language."""

    def __init__(self, table: dict[str, dict[str, str]], languages: list[str]) -> None:
        self.table = table
        self.languages = languages

    @classmethod
    def load(cls, path: Path, languages: list[str]) -> Templates:
        """Load and validate; every required key must exist in every configured language."""
        data: Any = load_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of template name to languages")
        for key in REQUIRED:
            if key not in data:
                raise ConfigError(f"{path}: missing template '{key}'")
        for key, langs in data.items():
            if not isinstance(langs, dict):
                raise ConfigError(f"{path}: template '{key}' must map language codes to text")
            missing = [lang for lang in languages if lang not in langs]
            if missing:
                raise ConfigError(f"{path}: template '{key}' has no text for {', '.join(missing)}")
        return cls({k: {lk: str(v) for lk, v in d.items()} for k, d in data.items()}, languages)

    def render(self, key: str, language: str | None, **values: Any) -> str:
        """The template `key` in `language`, formatted with `values` (unknown fields kept)."""
        variants = self.table[key]
        text = variants.get(language or "") or variants.get("en") or next(iter(variants.values()))
        return text.format_map(_Keep(values))

    def has(self, key: str) -> bool:
        """Whether a template exists."""
        return key in self.table


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
