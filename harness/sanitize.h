/* Manual poisoning for the harness's own buffers and allocator: ASan's
 * ASAN_(UN)POISON_MEMORY_REGION (no-ops without ASan), LSE_HAS_ASAN where
 * ASan's interface can be called, and LSE_MSAN_UNINIT to mark memory
 * uninitialised as fresh memory would be (a no-op without MSan). */
#ifndef LSE_SANITIZE_H
#define LSE_SANITIZE_H

#include <sanitizer/asan_interface.h>

#if defined(__SANITIZE_ADDRESS__)
#define LSE_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LSE_HAS_ASAN 1
#endif
#endif

#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#include <sanitizer/msan_interface.h>
#define LSE_MSAN_UNINIT(p, n) __msan_poison((p), (n))
#endif
#endif
#ifndef LSE_MSAN_UNINIT
#define LSE_MSAN_UNINIT(p, n) ((void)(p), (void)(n))
#endif

#endif
