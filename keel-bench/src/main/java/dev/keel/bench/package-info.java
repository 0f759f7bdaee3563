/**
 * The Keel benchmark: a program that prints Keel's harness cost per step beside the physical floor
 * of the same database, measured in the same process. Not a test; see {@code keel-bench/run.sh}.
 */
@NullMarked
package dev.keel.bench;

import org.jspecify.annotations.NullMarked;
