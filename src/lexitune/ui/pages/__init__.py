"""One module a page of `lexitune ui`, in the pipeline's order: glossary, data, train, runs, chat,
share. Each is a FastAPI router over the library, rendered with the templates of ui/templates."""
