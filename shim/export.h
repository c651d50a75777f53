/*
 * shim/export.h — marks the few symbols the library exports; everything
 * else is built with -fvisibility=hidden.
 */
#ifndef DA_SHIM_EXPORT_H
#define DA_SHIM_EXPORT_H

#define DA_EXPORT __attribute__((visibility("default")))

#endif /* DA_SHIM_EXPORT_H */
