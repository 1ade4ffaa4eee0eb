#!/usr/bin/env python
"Rewrite the results section of README.md from results/results.csv (mean ± std over seeds, test split, tuned rule)."
import argparse, re
from pathlib import Path

from tagparrot.evaluation import read_results, summarize
from tagparrot.study import default_data_rows, results_table, winners

START, END = '<!-- results:start -->', '<!-- results:end -->'


def markdown(df, rule='tuned') -> str:
    s = summarize(df, rule=rule)
    lo, hi = (int(s.seeds.min()), int(s.seeds.max())) if len(s) else (0, 0)
    seeds = str(lo) if lo == hi else f"{lo}–{hi}"
    parts = [f"Test-split F1 under the **{rule}** rule (per-label cuts fitted on the validation split, the same rule "
             f"for every method), mean ± std over seeds ({seeds} seeds per cell), from `results/results.csv` "
             f"({len(df[df.rule == rule])} rows of the default data); column headers give the target size and, in "
             "brackets, the mean number of training issues the slices held. The book's own rule per method is in "
             "`nbs/10c_study_report.ipynb`. Regenerate with `python scripts/results_table.py`."]
    for metric in ('macro_f1', 'micro_f1'):
        t = results_table(df, metric, rule=rule)
        parts.append(f"\n**{metric.replace('_', ' ').replace('f1', 'F1')}** (columns: training issues)\n\n" + t.to_markdown())
    w = winners(df, 'macro_f1', rule=rule)
    parts.append("\n**Best macro F1 per training size** (ties: within one standard deviation)\n\n" + w.to_markdown(index=False))
    return '\n'.join(parts)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--results'); p.add_argument('--readme', default=str(Path(__file__).resolve().parents[1]/'README.md'))
    a = p.parse_args()
    df = default_data_rows(read_results(a.results))
    readme = Path(a.readme)
    text = readme.read_text()
    block = f"{START}\n{markdown(df) if len(df) else 'No results yet.'}\n{END}"
    readme.write_text(re.sub(f"{START}.*?{END}", lambda _: block, text, flags=re.S) if START in text else text + '\n' + block + '\n')
    print(f"README results table: {len(df)} rows")
