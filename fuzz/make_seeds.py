#!/usr/bin/env python3
"""Write seed inputs for the fuzz targets from the sample files in tests/.

    python3 fuzz/make_seeds.py        # from the repository root

Seeds go to fuzz/corpus/text and fuzz/corpus/workbook (ignored by git).
Workbook seeds carry the mode byte that fuzz_targets/workbook.rs expects.
"""

import pathlib
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = [ROOT / "tests" / "fixtures", ROOT / "tests" / "cases"]
CORPUS = ROOT / "fuzz" / "corpus"
# Keep seeds small: libFuzzer's default maximum input length is 4096 bytes
# unless -max_len says otherwise.
MAX_SEED = 64 * 1024


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data[:MAX_SEED])


def main():
    for folder in SAMPLES:
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            if path.suffix in (".csv", ".txt"):
                write("text", path.name, data)
            elif path.suffix == ".xls":
                write("workbook", path.name, b"\x03" + data)
            elif path.suffix in (".xlsx", ".ods") and path.stat().st_size < 200_000:
                write("workbook", path.name, b"\x00" + data)
                try:
                    archive = zipfile.ZipFile(path)
                except zipfile.BadZipFile:
                    continue
                for member in archive.namelist():
                    if member.startswith("xl/worksheets/sheet"):
                        write("workbook", f"{path.stem}-{pathlib.Path(member).stem}.xml",
                              b"\x01" + archive.read(member))
                    elif member == "content.xml":
                        write("workbook", f"{path.stem}-content.xml", b"\x02" + archive.read(member))


if __name__ == "__main__":
    main()
