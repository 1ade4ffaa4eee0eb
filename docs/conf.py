"Sphinx settings of the documentation site (scripts/build_docs.py stages the notebooks and runs Sphinx with them)"
project = 'tagparrot'
author = 'tagparrot engineers'
copyright = '2026 onwards, tagparrot engineers'
# sphinx-mathjax-offline serves MathJax from the site itself, so formulas render without a network
extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx-mathjax-offline']
exclude_patterns = ['**.ipynb_checkpoints']
nb_execution_mode = 'off'            # the site shows the outputs stored in the notebooks; it never runs them
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'colon_fence']
myst_heading_anchors = 3
autodoc_member_order = 'bysource'
default_role = 'literal'            # docstrings write `code` the markdown way
autodoc_typehints = 'description'
html_theme = 'sphinx_book_theme'
html_title = 'tagparrot'
html_theme_options = {'repository_url': 'https://github.com/tagparrot/tagparrot', 'use_repository_button': False,
                      'show_toc_level': 2, 'home_page_in_toc': True}
html_last_updated_fmt = None
html_static_path = ['_static']         # custom.css: room for the notebooks' code lines
html_css_files = ['custom.css']
html_copy_source = False             # the notebooks live in the repository; the site carries HTML only
html_show_sourcelink = False
suppress_warnings = ['mystnb.unknown_mime_type']


def _plain_docstring(app, what, name, obj, options, lines):
    "nbdev docstrings are plain one-liners, not reStructuredText: keep `|` and `*` literal"
    lines[:] = [l.replace('|', r'\|').replace('*', r'\*') for l in lines]


def setup(app): app.connect('autodoc-process-docstring', _plain_docstring)
