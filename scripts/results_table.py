#!/usr/bin/env python
"""Rewrite the README's generated block: the headline figures (each read from the results file it names) and the study's
table from results/results.csv (mean ± std over seeds, test split, tuned rule). tests/test_figures.py checks it is current."""
import argparse, re
from pathlib import Path

import pandas as pd

from tagparrot.evaluation import read_results, summarize
from tagparrot.study import default_data_rows, results_table, winners

ROOT = Path(__file__).resolve().parents[1]
START, END = '<!-- results:start -->', '<!-- results:end -->'
CONTRASTIVE_DEFAULT, SETFIT, LARGE = 'supcon-L6-128-e3-lr5e-5', 'setfit', 'mpnet-supcon-L12-128-e3-lr5e-5'
TOP_TWO, FROZEN = 'supcon-L2-128-e3-lr5e-5', 'frozen-128'
TAGGER_RULE, STUDY_RULE = 'shrunk 10 + cap 3', 'per-label (the study)'


def _mean_sd(s: pd.Series) -> str: return f"{s.mean():.3f} ± {s.std(ddof=0):.3f}"


def budget_rows(root=ROOT) -> pd.DataFrame:
    "The development benchmark's rows, a variant rerun with the same settings and seed counted once (its last run)"
    b = pd.read_csv(root/'results'/'contrastive_budget.csv')
    return b.drop_duplicates(['variant', 'settings', 'seed'], keep='last')


def which_method_when(root=ROOT) -> str:
    "The contrastive default against the setfit library and the cheaper and larger variants, on validation"
    b = budget_rows(root)
    v = {name: g for name, g in b.groupby('variant')}
    ours, lib, big = v[CONTRASTIVE_DEFAULT], v[SETFIT], v[LARGE]
    return (f"- **Which method when** (`results/contrastive_budget.csv`: the development benchmark, 300 training "
            f"issues, validation macro F1, mean ± std over seeds {ours.seed.min()}-{ours.seed.max()}, training wall "
            f"seconds on two idle cores): the contrastive default (all six MiniLM layers, supervised contrastive loss, "
            f"three epochs) {_mean_sd(ours.macro_f1)} in {ours.seconds.mean():.0f} s; the setfit library on the same "
            f"encoder and issues {_mean_sd(lib.macro_f1)} in {lib.seconds.mean():.0f} s; the top two layers only "
            f"{v[TOP_TWO].macro_f1.mean():.3f}; the frozen encoder with the same head {v[FROZEN].macro_f1.mean():.3f}; "
            f"the large encoder (MPNet, all twelve layers, seed {big.seed.iloc[0]}) {big.macro_f1.mean():.3f} in "
            f"{big.seconds.mean():.0f} s, tagging {big.tag_per_s.mean():.0f} issues a second.")


def tagger_rule_figures(root=ROOT) -> str:
    "The tagger's rule against the study's per-label cuts, on validation"
    r = pd.read_csv(root/'results'/'tagger_rules.csv')
    r = r[r.objective == 'micro'].set_index(['rule', 'method'])
    f = lambda rule, m, c, fmt='.2f': format(r.loc[(rule, m), c], fmt)
    return (f"- **The tagger's rule** (`results/tagger_rules.csv`, validation split, micro objective): shrunk per-label "
            f"cuts with at most 3 labels give Naive Bayes {f(TAGGER_RULE, 'naive-bayes', 'micro_f1', '.3f')} micro F1 "
            f"and {f(TAGGER_RULE, 'naive-bayes', 'labels_per_issue')} labels an issue, the embedding lookup "
            f"{f(TAGGER_RULE, 'embedding-knn', 'micro_f1', '.3f')} and {f(TAGGER_RULE, 'embedding-knn', 'labels_per_issue')};"
            f" the study's plain per-label cuts give Naive Bayes {f(STUDY_RULE, 'naive-bayes', 'micro_f1', '.3f')} micro F1 "
            f"and {f(STUDY_RULE, 'naive-bayes', 'labels_per_issue', '.1f')} labels an issue, the 0.5 cut "
            f"{f('fixed 0.5', 'naive-bayes', 'micro_f1', '.3f')}.")


def full_preset_figures(root=ROOT) -> str:
    "Fine-tuning at the reference study's budget, on the GPU"
    g = pd.read_csv(root/'results'/'gpu_full_preset.csv', dtype={'target_size': str})
    ft = g[(g.method == 'finetune') & (g.rule == 'tuned') & (g.target_size == 'full')]
    return (f"- **Fine-tuning at the book's budget** (`results/gpu_full_preset.csv`: `--preset full`, 20 epochs, one GPU, "
            f"full split, test, tuned rule): {_mean_sd(ft.macro_f1)} macro F1 over seeds "
            f"{ft.seed.min()}-{ft.seed.max()}; the table below gives the default budget's rows.")


def active_learning_figures(root=ROOT, labels: int = 64) -> str:
    "Simulated annotation: the diversity strategy against random draws at one label count"
    a = pd.read_csv(root/'results'/'active_learning.csv')
    a = a[(a.model == 'embedding-heads') & (a.split == 'test') & (a.labels == labels)]
    f = lambda s: f"{a[a.strategy == s].macro_f1.mean():.3f}"
    return (f"- **Which issues to label next** (`results/active_learning.csv`: simulated annotation, embedding heads, "
            f"test, mean over seeds {a.seed.min()}-{a.seed.max()}): at {labels} labels the diversity strategy's picks "
            f"reach {f('diversity')} macro F1, random picks {f('random')}.")


def headline(root=ROOT) -> str:
    return '\n'.join(["**Headline figures**, each read from the results file it names:", '',
                      which_method_when(root), tagger_rule_figures(root), full_preset_figures(root),
                      active_learning_figures(root)])


def markdown(df, rule='tuned') -> str:
    s = summarize(df, rule=rule)
    lo, hi = (int(s.seeds.min()), int(s.seeds.max())) if len(s) else (0, 0)
    seeds = str(lo) if lo == hi else f"{lo}–{hi}"
    parts = [f"Test-split F1 under the **{rule}** rule (per-label cuts fitted on the validation split, the same rule "
             f"for every method), mean ± std over seeds ({seeds} seeds per cell), from `results/results.csv` "
             f"({len(df[df.rule == rule])} rows of the default data); column headers give the target size and, in "
             "brackets, the mean number of training issues the slices held. The book's own rule per method is in "
             "`nbs/10c_study_report.ipynb`."]
    for metric in ('macro_f1', 'micro_f1'):
        t = results_table(df, metric, rule=rule)
        parts.append(f"\n**{metric.replace('_', ' ').replace('f1', 'F1')}** (columns: training issues)\n\n"
                     + t.to_markdown())
    w = winners(df, 'macro_f1', rule=rule)
    parts.append("\n**Best macro F1 per training size** (ties: within one standard deviation)\n\n"
                 + w.to_markdown(index=False))
    return '\n'.join(parts)


def block(df, root=ROOT) -> str:
    "The generated block, markers included"
    body = f"{headline(root)}\n\n{markdown(df) if len(df) else 'No study results yet.'}"
    return (f"{START}\n<!-- generated by python scripts/results_table.py from results/: edit that script, not this "
            f"block -->\n{body}\n{END}")


def render(text: str, results=None, root=ROOT) -> str:
    "`text` (a README) with its generated block rewritten from the results files (appended when it has none)"
    b = block(default_data_rows(read_results(results)), root)
    return re.sub(f"{START}.*?{END}", lambda _: b, text, flags=re.S) if START in text else text + '\n' + b + '\n'


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--results', help='the study table (default: results/results.csv)')
    p.add_argument('--readme', default=str(ROOT/'README.md'), help='the file to rewrite (default: %(default)s)')
    a = p.parse_args()
    readme = Path(a.readme)
    readme.write_text(render(readme.read_text(), a.results))
    print(f"README generated block: {len(default_data_rows(read_results(a.results)))} study rows")
