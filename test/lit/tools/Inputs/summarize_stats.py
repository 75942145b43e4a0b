"""Prints the header of a sinterc --calibrate stats file and its first tensor
and attention probes, one line each, for FileCheck."""
import json
import sys

stats = json.load(open(sys.argv[1]))
print(f"{stats['format']} version {stats['version']} of {stats['model']}: "
      f"{stats['samples']} samples, {len(stats['tensors'])} tensor, "
      f"{len(stats['attention'])} attention, {len(stats['routing'])} routing probes")
for t in stats["tensors"][:1]:
    readers = ", ".join(f"{c['op']} '{c['name']}'" for c in sorted(t["consumers"], key=lambda c: c["name"]))
    print(f"tensor {t['id']} '{t['name']}' axis {t['channel_axis']}, {t['channels']} channels, "
          f"{t['count']} values, read by {readers}")
for a in stats["attention"][:1]:
    print(f"attention {a['id']} '{a['name']}': {a['heads']} heads, {a['keys']} keys, {a['rows']} rows")
