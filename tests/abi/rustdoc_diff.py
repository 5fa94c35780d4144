#!/usr/bin/env python3
"""Compares the public API of a Rust crate in two rustdoc JSON files (api-report.sh's fallback
when cargo-semver-checks is not installed).

    rustdoc_diff.py OLD.json NEW.json

Lists every public item reachable from the crate root (modules, re-exports, types, functions,
constants, traits and their methods, enum variants, public fields, inherent methods, and the
traits each type implements, auto traits such as Send and Sync included) with its signature,
and prints what was removed, what changed and what was added. Exit status 1 when something was
removed or changed (a changed signature is not always a break, e.g. a new defaulted generic,
but it needs a look), else 0. It knows less than cargo-semver-checks: no trait-bound,
object-safety or #[must_use] rules.
"""
import json
import sys

NOISE = {"id", "span", "docs", "links", "attrs", "crate_id", "deprecation", "impls", "has_body"}


def norm(v):
    """A signature without ids, spans and docs, stable across two rustdoc runs."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if k not in NOISE}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def sig(v):
    return json.dumps(norm(v), sort_keys=True, separators=(",", ":"))


def api(path):
    doc = json.load(open(path))
    index = doc["index"]

    def item(i):
        return index.get(str(i)) or index.get(i)

    out = {}
    seen = set()

    def fields_resolved(v):
        """A variant with its fields' types in place of their ids (which differ between runs)."""
        kind = v.get("variant", {}).get("kind")
        if isinstance(kind, dict) and "tuple" in kind:
            kind = {"tuple": [norm(item(f)["inner"]) if f is not None and item(f) else None for f in kind["tuple"]]}
        elif isinstance(kind, dict) and "struct" in kind:
            kind = {"struct": {"fields": [[item(f)["name"], norm(item(f)["inner"])] for f in kind["struct"]["fields"]],
                               "has_stripped_fields": kind["struct"].get("has_stripped_fields")}}
        return dict(v, variant=dict(v.get("variant", {}), kind=kind))

    def walk(i, prefix):
        it = item(i)
        if it is None or it.get("visibility") not in ("public", "default", None):
            return
        (kind, inner), = it["inner"].items()
        name = it.get("name")
        here = (f"{prefix}::{name}" if prefix else name) if name else prefix
        if kind == "use":
            target = inner.get("id")
            alias = inner.get("name")
            if target is not None and item(target) is not None and not inner.get("is_glob"):
                t = item(target)
                if alias and t.get("name") != alias:
                    t = dict(t, name=alias)
                    index[f"alias:{target}:{alias}"] = t
                    walk(f"alias:{target}:{alias}", prefix)
                else:
                    walk(target, prefix)
            else:
                out[f"{prefix}::{inner.get('source')} (glob use)"] = "use"
            return
        key = (here, kind)
        if key in seen:
            return
        seen.add(key)
        if kind == "module":
            out[here + " (mod)"] = "mod"
            for c in inner["items"]:
                walk(c, here)
            return
        if kind == "struct":
            shape = inner["kind"]
            fields = []
            if isinstance(shape, dict) and "plain" in shape:
                for f in shape["plain"]["fields"]:
                    fi = item(f)
                    if fi and fi.get("visibility") == "public":
                        fields.append([fi["name"], norm(fi["inner"])])
                shape = {"plain": {"has_stripped_fields": shape["plain"]["has_stripped_fields"]}}
            elif isinstance(shape, dict) and "tuple" in shape:
                fields = [norm(item(f)["inner"]) if f is not None and item(f) else None for f in shape["tuple"]]
                shape = "tuple"
            out[here + " (struct)"] = sig({"generics": inner["generics"], "kind": shape, "fields": fields})
        elif kind == "enum":
            out[here + " (enum)"] = sig({"generics": inner["generics"],
                                         "stripped": inner.get("has_stripped_variants")})
            for v in inner["variants"]:
                vi = item(v)
                out[f"{here}::{vi['name']} (variant)"] = sig(fields_resolved(vi["inner"]))
        elif kind == "trait":
            out[here + " (trait)"] = sig({k: x for k, x in inner.items() if k not in ("items", "implementations")})
            for m in inner["items"]:
                mi = item(m)
                out[f"{here}::{mi['name']} (trait item)"] = sig(mi["inner"])
            return
        else:
            out[f"{here} ({kind})"] = sig(inner)
            return
        # Inherent methods and implemented traits of a struct or an enum.
        for imp in inner.get("impls", []):
            ii = item(imp)
            if ii is None:
                continue
            im = ii["inner"]["impl"]
            if im.get("blanket_impl") is not None:
                continue
            if im.get("trait") is None:
                for m in im["items"]:
                    mi = item(m)
                    if mi and mi.get("visibility") == "public":
                        (mk, minner), = mi["inner"].items()
                        out[f"{here}::{mi['name']} ({mk})"] = sig(minner)
            else:
                neg = "!" if im.get("is_negative") else ""
                trait = im["trait"]["path"]
                out[f"impl {neg}{trait} for {here}"] = sig(im["trait"].get("args"))

    walk(doc["root"], "")
    return out


def main():
    old, new = api(sys.argv[1]), api(sys.argv[2])
    removed = sorted(set(old) - set(new))
    added = sorted(set(new) - set(old))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    for title, keys in (("Removed (incompatible)", removed), ("Changed (review: usually incompatible)", changed),
                        ("Added (compatible)", added)):
        if keys:
            print(f"{title}:")
            for k in keys:
                print(f"- {k}")
    if not (removed or changed or added):
        print("no changes")
    return 1 if removed or changed else 0


if __name__ == "__main__":
    sys.exit(main())
