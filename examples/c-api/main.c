/* Calls a model compiled by Kiln from plain C.
 *
 *   kiln compile examples/tinynet/model.onnx --emit=obj --name tinynet -o tinynet.o
 *   cc main.c tinynet.o -lm -I build/include -I . -o tinynet_demo
 *   ./tinynet_demo [image.bin]
 *
 * `kiln compile` writes tinynet.h beside tinynet.o: the entry point
 * tinynet_run, the signature tinynet_info, and the arena size and alignment.
 * This program owns all the memory: a static, aligned arena and its input and
 * output buffers; the model allocates nothing. The optional argument is a raw
 * little-endian float32 image of shape 1x3x16x16 (examples/tinynet/input_0.bin);
 * without it, a synthetic gradient image is used.
 */
#include "tinynet.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define IMAGE_ELEMS (1 * 3 * 16 * 16)
#define NUM_CLASSES 5

/* Scratch memory for the model's intermediates; the header gives its size. */
static _Alignas(TINYNET_ARENA_ALIGN) unsigned char
    arena[TINYNET_ARENA_SIZE > 0 ? TINYNET_ARENA_SIZE : 1];

static float image[IMAGE_ELEMS];
static float probs[NUM_CLASSES];

static int check_signature(void) {
  const kiln_model_info *info = &tinynet_info;
  if (info->num_inputs != 1 || info->num_outputs != 1 ||
      info->inputs[0].byte_size != sizeof image ||
      info->outputs[0].byte_size != sizeof probs) {
    fprintf(stderr, "error: tinynet's signature is not what this program expects\n");
    return 0;
  }
  printf("model %s: input '%s' [", info->name, info->inputs[0].name);
  for (int32_t d = 0; d < info->inputs[0].rank; ++d)
    printf("%s%lld", d ? "," : "", (long long)info->inputs[0].shape[d]);
  printf("], output '%s', arena %llu bytes\n", info->outputs[0].name,
         (unsigned long long)info->arena_size);
  return 1;
}

static int load_image(const char *path) {
  if (!path) {
    for (int i = 0; i < IMAGE_ELEMS; ++i)
      image[i] = (float)(i % 16) / 8.0f - 1.0f;
    return 1;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 0;
  }
  size_t n = fread(image, sizeof(float), IMAGE_ELEMS, f);
  fclose(f);
  if (n != IMAGE_ELEMS) {
    fprintf(stderr, "error: %s: expected %d float32 values\n", path, IMAGE_ELEMS);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (!check_signature() || !load_image(argc > 1 ? argv[1] : NULL))
    return 1;

  const void *inputs[TINYNET_NUM_INPUTS] = {image};
  void *outputs[TINYNET_NUM_OUTPUTS] = {probs};
  int32_t status = tinynet_run(inputs, outputs, arena);
  if (status != KILN_OK) {
    fprintf(stderr, "error: tinynet_run returned %d\n", (int)status);
    return 1;
  }

  float sum = 0.0f;
  int best = 0;
  for (int i = 0; i < NUM_CLASSES; ++i) {
    printf("class %d: %.4f\n", i, probs[i]);
    sum += probs[i];
    if (probs[i] > probs[best])
      best = i;
  }
  printf("predicted class: %d\n", best);
  if (fabsf(sum - 1.0f) > 1e-4f) {
    fprintf(stderr, "error: probabilities sum to %f, not 1\n", sum);
    return 1;
  }
  return 0;
}
