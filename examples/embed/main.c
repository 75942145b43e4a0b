/* embed: runs a GPT compiled by sinterc from a C program.
 *
 *   embed gpt.weights ids.bin logits.bin
 *
 * reads token ids (little-endian int64) from ids.bin, runs the model on
 * them as one sequence, writes the logits (float32, [1, n, vocab]) to
 * logits.bin and prints the most likely next token. Everything it needs
 * from sinter is gpt.h and gpt.so. */
#include "gpt.h"

#include <stdio.h>
#include <stdlib.h>

static long read_file(const char *path, void **data) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return -1;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  rewind(file);
  *data = malloc(size > 0 ? (size_t)size : 1);
  if (!*data || fread(*data, 1, (size_t)size, file) != (size_t)size)
    size = -1;
  fclose(file);
  return size;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s gpt.weights ids.bin logits.bin\n", argv[0]);
    return 2;
  }
  /* Load: maps the weights (checking their checksum); 0 = all cores. */
  sinter_session *session = NULL;
  if (gpt_load(argv[1], 0, &session) != SINTER_OK) {
    fprintf(stderr, "embed: %s\n", gpt_error(session));
    gpt_free(session);
    return 1;
  }
  const sinter_tensor_info *in = gpt_input_info(session, 0);
  const sinter_tensor_info *out = gpt_output_info(session, 0);
  printf("input '%s' %s rank %d, output '%s' %s rank %d\n", in->name,
         sinter_dtype_name(in->dtype), (int)in->rank, out->name,
         sinter_dtype_name(out->dtype), (int)out->rank);

  void *ids = NULL;
  long bytes = read_file(argv[2], &ids);
  if (bytes < 0) {
    fprintf(stderr, "embed: cannot read %s\n", argv[2]);
    gpt_free(session);
    return 1;
  }
  /* The runtime checks the shape against the model's: a wrong length is an
   * error with a message, not a crash. */
  int64_t shape[2] = {1, bytes / (long)sizeof(int64_t)};
  sinter_tensor input = {ids, SINTER_INT64, 2, shape};
  sinter_tensor logits;
  if (gpt_run(session, &input, 1, &logits, 1) != SINTER_OK) {
    fprintf(stderr, "embed: %s\n", gpt_error(session));
    free(ids);
    gpt_free(session);
    return 1;
  }

  /* The outputs belong to the session until the next run or free. */
  int64_t n = logits.shape[1], vocab = logits.shape[2];
  const float *values = (const float *)logits.data;
  FILE *file = fopen(argv[3], "wb");
  if (!file || fwrite(values, sizeof(float), (size_t)(n * vocab), file) !=
                   (size_t)(n * vocab)) {
    fprintf(stderr, "embed: cannot write %s\n", argv[3]);
    free(ids);
    gpt_free(session);
    return 1;
  }
  fclose(file);
  const float *last = values + (n - 1) * vocab;
  int64_t best = 0;
  for (int64_t v = 1; v < vocab; ++v)
    if (last[v] > last[best])
      best = v;
  printf("next token: %lld (logit %.4f)\n", (long long)best, last[best]);
  free(ids);
  gpt_free(session);
  return 0;
}
