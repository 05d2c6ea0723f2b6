"""MkDocs hook: forwards MkDocs events to the Dayori engine; all logic lives in `dayori`."""

from dayori.material.adapter import (  # noqa: F401  (MkDocs looks these names up on this module)
    on_build_error,
    on_config,
    on_env,
    on_files,
    on_nav,
    on_page_content,
    on_page_context,
    on_page_markdown,
    on_post_build,
    on_post_page,
    on_post_template,
    on_pre_build,
    on_serve,
    on_shutdown,
    on_startup,
)
