/*
 * Deterministic crash tests (git's test-tool idea): a named point in a multi-step
 * store change where a test can make the process die with SIGKILL, by setting
 * _SKIFF_TEST_CRASH_AT=NAME in its environment. Costs one getenv() per point.
 */
#ifndef SKIFF_CRASHPOINT_H
#define SKIFF_CRASHPOINT_H

void crashpoint(const char *name);

#endif
