/*===- descriptor.c - Reading the model descriptor ------------------------===*
 *
 * The versioned text that sinterc writes into every model.so (its
 * grammar is in docs/runtime-abi.md), parsed at load into the session.
 *
 *===-----------------------------------------------------------------------===*/
#include "session.h"

#include "probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over the descriptor text. */
typedef struct reader {
  const char *p;
  int ok;
} reader;

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The next whitespace-separated token, %XX escapes decoded, in a fresh
 * malloc'ed string (NULL and r->ok = 0 at the end or on error). */
static char *next_token(reader *r) {
  while (*r->p == ' ' || *r->p == '\n')
    ++r->p;
  const char *start = r->p;
  while (*r->p && *r->p != ' ' && *r->p != '\n')
    ++r->p;
  size_t length = (size_t)(r->p - start);
  char *token = length ? malloc(length + 1) : NULL;
  if (!token) {
    r->ok = 0;
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < length; ++i) {
    if (start[i] == '%' && i + 2 < length && hex_value(start[i + 1]) >= 0 &&
        hex_value(start[i + 2]) >= 0) {
      token[n++] =
          (char)(hex_value(start[i + 1]) * 16 + hex_value(start[i + 2]));
      i += 2;
    } else if (start[i] == '%' && i + 1 == length) {
      /* A lone "%" is the empty string. */
    } else {
      token[n++] = start[i];
    }
  }
  token[n] = '\0';
  return token;
}

static int expect_word(reader *r, const char *word) {
  char *token = next_token(r);
  int same = token && strcmp(token, word) == 0;
  free(token);
  if (!same)
    r->ok = 0;
  return same;
}

/* The next token as a non-negative number in `base` (10, or 16 for the
 * checksum); 0 and r->ok = 0 when it is not one. */
static uint64_t next_number(reader *r, int base) {
  char *token = next_token(r);
  if (!token)
    return 0;
  char *end;
  errno = 0;
  unsigned long long value = strtoull(token, &end, base);
  if (errno || *end || token[0] == '-')
    r->ok = 0;
  free(token);
  return value;
}

/* The next token as a non-negative decimal int64 (r->ok = 0 above
 * INT64_MAX, which would otherwise come back negative). */
static int64_t next_int(reader *r) {
  uint64_t value = next_number(r, 10);
  if (value > (uint64_t)INT64_MAX) {
    r->ok = 0;
    return 0;
  }
  return (int64_t)value;
}

/* The next token as a signed decimal number; 0 and r->ok = 0 when it is
 * not one. */
static int64_t next_signed(reader *r) {
  char *token = next_token(r);
  if (!token)
    return 0;
  char *end;
  errno = 0;
  long long value = strtoll(token, &end, 10);
  if (errno || *end)
    r->ok = 0;
  free(token);
  return value;
}

/* "input <name> <dtype> <rank> <dim>..." where a dim is a size or
 * "?<symbol>:<bound>" (bound -1: none). */
static void read_slot(reader *r, const char *keyword, tensor_slot *slot) {
  if (!expect_word(r, keyword))
    return;
  slot->name = next_token(r);
  slot->info.name = slot->name;
  slot->info.dtype = (sinter_dtype)next_int(r);
  int64_t rank = next_int(r);
  if (!r->ok || rank < 0 || rank > 64) {
    r->ok = 0;
    return;
  }
  slot->info.rank = (int32_t)rank;
  size_t count = rank ? (size_t)rank : 1;
  slot->shape = calloc(count, sizeof(int64_t));
  slot->max_shape = calloc(count, sizeof(int64_t));
  slot->run_shape = calloc(count, sizeof(int64_t));
  slot->dim_names = calloc(count, sizeof(char *));
  if (!slot->shape || !slot->max_shape || !slot->run_shape ||
      !slot->dim_names) {
    r->ok = 0;
    return;
  }
  for (int64_t d = 0; d < rank && r->ok; ++d) {
    char *token = next_token(r);
    if (!token)
      return;
    if (token[0] == '?') {
      char *colon = strrchr(token, ':');
      char *end;
      long long bound = colon ? strtoll(colon + 1, &end, 10) : 0;
      if (!colon || *end) {
        r->ok = 0;
        free(token);
        return;
      }
      *colon = '\0';
      slot->dim_names[d] = strdup(token + 1);
      slot->shape[d] = -1;
      slot->max_shape[d] = bound;
    } else {
      char *end;
      slot->shape[d] = slot->max_shape[d] = strtoll(token, &end, 10);
      slot->dim_names[d] = strdup("");
      if (*end || slot->shape[d] < 0)
        r->ok = 0;
    }
    if (!slot->dim_names[d])
      r->ok = 0;
    free(token);
  }
  slot->info.shape = slot->shape;
  slot->info.max_shape = slot->max_shape;
  slot->info.dim_names = (const char *const *)slot->dim_names;
}

sinter_status sinter_parse_descriptor(sinter_session *s) {
  reader r = {s->model->descriptor, 1};
  if (!expect_word(&r, "sinter-model") || next_int(&r) != 1 ||
      !expect_word(&r, "name"))
    return fail(s, SINTER_INTERNAL_ERROR,
                "the model's descriptor is not a version 1 sinter descriptor");
  s->name = next_token(&r);
  expect_word(&r, "weights");
  s->weights_size = (uint64_t)next_int(&r);
  s->weights_checksum = next_number(&r, 16);
  expect_word(&r, "arena");
  s->arena_size = (uint64_t)next_int(&r);
  expect_word(&r, "inputs");
  int64_t inputs = next_int(&r);
  if (!r.ok || inputs < 0 || inputs > 100000)
    return fail(s, SINTER_INTERNAL_ERROR,
                "the model's descriptor is malformed");
  s->num_inputs = (int)inputs;
  s->inputs = calloc((size_t)inputs + 1, sizeof(tensor_slot));
  for (int i = 0; s->inputs && i < s->num_inputs && r.ok; ++i)
    read_slot(&r, "input", &s->inputs[i]);
  expect_word(&r, "outputs");
  int64_t outputs = next_int(&r);
  if (!r.ok || !s->inputs || outputs < 0 || outputs > 100000)
    return fail(s, SINTER_INTERNAL_ERROR,
                "the model's descriptor is malformed");
  s->num_outputs = (int)outputs;
  s->outputs = calloc((size_t)outputs + 1, sizeof(tensor_slot));
  for (int i = 0; s->outputs && i < s->num_outputs && r.ok; ++i)
    read_slot(&r, "output", &s->outputs[i]);
  char *word = next_token(&r);
  /* Optional: "bounds <n>", then "bound <input> <low> <high>" per input
   * that the model uses as indices. */
  if (word && strcmp(word, "bounds") == 0) {
    int64_t bounds = next_int(&r);
    for (int64_t b = 0; r.ok && b < bounds; ++b) {
      expect_word(&r, "bound");
      int64_t input = next_int(&r), low = next_signed(&r),
              high = next_signed(&r);
      if (!r.ok || input < 0 || input >= s->num_inputs || low > high) {
        r.ok = 0;
        break;
      }
      tensor_slot *slot = &s->inputs[input];
      slot->has_index_bound = 1;
      slot->index_low = low;
      slot->index_high = high;
    }
    free(word);
    word = next_token(&r);
  }
  /* Optional: "checks <n>", then "check <name>" per op whose computed
   * indices the model checks itself (the fault record). */
  if (word && strcmp(word, "checks") == 0) {
    int64_t checks = next_int(&r);
    if (!r.ok || checks < 1 || checks > 1000000) {
      free(word);
      return fail(s, SINTER_INTERNAL_ERROR,
                  "the model's descriptor is malformed");
    }
    s->num_index_checks = (int)checks;
    s->index_checks = calloc((size_t)checks, sizeof(char *));
    for (int i = 0; s->index_checks && i < s->num_index_checks && r.ok; ++i) {
      expect_word(&r, "check");
      s->index_checks[i] = next_token(&r);
      if (!s->index_checks[i])
        r.ok = 0;
    }
    if (!s->index_checks)
      r.ok = 0;
    free(word);
    word = next_token(&r);
  }
  /* Optional: "probes <n>", then "probe <kind> <name>" per probe. */
  if (word && strcmp(word, "probes") == 0) {
    int64_t probes = next_int(&r);
    if (!r.ok || probes < 0 || probes > 10000000) {
      free(word);
      return fail(s, SINTER_INTERNAL_ERROR,
                  "the model's descriptor is malformed");
    }
    s->num_probes = (int)probes;
    s->probes = calloc((size_t)probes + 1, sizeof(sinter_probe_stats));
    for (int i = 0; s->probes && i < s->num_probes && r.ok; ++i) {
      expect_word(&r, "probe");
      s->probes[i].kind = (sinter_probe_kind)next_int(&r);
      s->probes[i].name = next_token(&r);
      sinter_probe_init(&s->probes[i]);
    }
    if (!s->probes)
      r.ok = 0;
    free(word);
    word = next_token(&r);
  }
  /* Optional: "device cuda sm_<major><minor>". */
  if (word && strcmp(word, "device") == 0) {
    char *kind = next_token(&r), *chip = next_token(&r);
    int digits = chip ? (int)strlen(chip) - 3 : 0;
    if (kind && strcmp(kind, "cuda") == 0 && chip &&
        strncmp(chip, "sm_", 3) == 0 && digits >= 2 &&
        strspn(chip + 3, "0123456789") == (size_t)digits) {
      s->cuda = 1;
      s->cuda_minor = chip[3 + digits - 1] - '0';
      chip[3 + digits - 1] = '\0';
      s->cuda_major = atoi(chip + 3);
    } else {
      r.ok = 0;
    }
    free(kind);
    free(chip);
    free(word);
    word = next_token(&r);
  }
  if (!word || strcmp(word, "end") != 0)
    r.ok = 0;
  free(word);
  if (!r.ok || !s->outputs)
    return fail(s, SINTER_INTERNAL_ERROR,
                "the model's descriptor is malformed");
  return SINTER_OK;
}
