/* Runs tinynet, compiled by kiln_add_model(), on a synthetic image and
 * prints the class probabilities. All memory is this program's: the arena
 * and the buffers are static; the model allocates nothing. */
#include "tinynet.h"

#include <stdio.h>

static _Alignas(TINYNET_ARENA_ALIGN) unsigned char
    arena[TINYNET_ARENA_SIZE > 0 ? TINYNET_ARENA_SIZE : 1];
static float image[1 * 3 * 16 * 16];
static float probs[5];

int main(void) {
  for (int i = 0; i < (int)(sizeof image / sizeof image[0]); ++i)
    image[i] = (float)(i % 16) / 8.0f - 1.0f;
  const void *inputs[] = {image};
  void *outputs[] = {probs};
  int status = tinynet_run(inputs, outputs, arena);
  if (status != KILN_OK) {
    fprintf(stderr, "error: tinynet_run: %s\n", kiln_status_string(status));
    return 1;
  }
  float sum = 0;
  for (int k = 0; k < 5; ++k) {
    printf("class %d: %.4f\n", k, probs[k]);
    sum += probs[k];
  }
  printf("sum %.4f\n", sum);
  return sum > 0.99f && sum < 1.01f ? 0 : 1;
}
