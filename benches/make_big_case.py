#!/usr/bin/env python3
"""Write a big customer file and its expected import, for benchmarks only.

Big inputs are not committed, so this script makes them on demand, the same
bytes every time. `cargo bench --bench open` runs it itself:

    python3 benches/make_big_case.py --out /tmp/big             # big-100k.csv + expected
    python3 benches/make_big_case.py --out /tmp/big --xlsx      # also big-100k.xlsx (needs openpyxl)
    python3 benches/make_big_case.py --out /tmp/big --rows 1000000

The CSV has 20 columns (UTF-8, comma, CRLF); every row is ready, with the
default country US. Use it to measure parsing off the UI thread, streaming, a
virtualised preview and bounded memory, not in timed test assertions.
"""

from __future__ import annotations

import argparse
import json
import os

HEADER = ["First Name", "Last Name", "Email", "Phone", "Street", "City", "State", "Country",
          "Tags", "Notes"] + [f"Custom {i}" for i in range(1, 11)]
GIVEN = ["Ava", "Noah", "Mia", "Liam", "Zoe", "Ravi", "Camila", "Owen", "Ella", "Hugo",
         "Ivy", "Jonas", "Lena", "Marco", "Nina", "Omar", "Priya", "Quinn", "Ruth", "Sam"]
FAMILY = ["Lindqvist", "Tremblay", "Nguyen", "Baker", "Martin", "Okafor", "Reyes", "Patel",
          "Moreau", "Lambert", "Chen", "Weber", "Fischer", "Rossi", "Kowalski", "Haddad",
          "Raman", "Adler", "Okoro", "Stone"]
PLACES = [("MI", "Detroit", "313"), ("IL", "Chicago", "312"), ("NY", "New York", "212"),
          ("WA", "Seattle", "206"), ("TX", "Austin", "512"), ("CO", "Denver", "303"),
          ("MA", "Boston", "617"), ("GA", "Atlanta", "404")]
TAGS = ["VIP", "Wholesale", "Newsletter", "Retail", ""]


def row(i):
    g, f = GIVEN[i % 20], FAMILY[(i // 20) % 20]
    st, city, area = PLACES[i % len(PLACES)]
    line = 100 + (i // len(PLACES)) % 100
    phone = f"({area}) 555-{line:04d}"
    e164 = f"+1{area}555{line:04d}"
    email = f"{g.lower()}.{f.lower()}.{i}@example.com"
    tag = TAGS[i % len(TAGS)]
    cells = [g, f, email, phone, f"{i % 9000 + 1} Elm St", city, st, "US", tag,
             "Imported from the old POS" if i % 7 == 0 else ""] + [str(i * k % 997) for k in range(1, 11)]
    cust = {"givenName": g, "familyName": f,
            "address": {"streetAddress": f"{i % 9000 + 1} Elm St", "city": city,
                        "regionCode": f"US-{st}", "countryCode": "US"},
            "phoneNumbers": [e164], "emailAddresses": [email]}
    if tag:
        cust["tags"] = [tag]
    cust["permissionToContact"] = False
    return cells, cust


def main():
    ap = argparse.ArgumentParser(description="Write a big customer CSV (and XLSX) with its expected JSONL.")
    ap.add_argument("--out", required=True, help="folder to write into (not the repository)")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--xlsx", action="store_true", help="also write the same rows as .xlsx (slow)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stem = f"big-{args.rows // 1000}k" if args.rows % 1000 == 0 else f"big-{args.rows}"
    csv_path = os.path.join(args.out, stem + ".csv")
    exp_path = os.path.join(args.out, stem + ".expected.jsonl")
    with open(csv_path, "w", encoding="utf-8", newline="") as fc, \
            open(exp_path, "w", encoding="utf-8", newline="\n") as fe:
        fc.write(",".join(HEADER) + "\r\n")
        for i in range(args.rows):
            cells, cust = row(i)
            fc.write(",".join(cells) + "\r\n")
            fe.write(json.dumps({"row": i + 2, "status": "ready", "customer": cust}) + "\n")
    print(f"wrote {csv_path} ({os.path.getsize(csv_path):,} bytes) and {exp_path}")
    if args.xlsx:
        from openpyxl import Workbook
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Customers")
        ws.append(HEADER)
        for i in range(args.rows):
            ws.append(row(i)[0])
        xp = os.path.join(args.out, stem + ".xlsx")
        wb.save(xp)
        print(f"wrote {xp} ({os.path.getsize(xp):,} bytes); the same expected JSONL applies")


if __name__ == "__main__":
    main()
