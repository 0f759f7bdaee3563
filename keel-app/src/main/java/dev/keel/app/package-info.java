/** Keel's main: configuration, wiring of the concrete adapters, and the {@code keel} CLI. */
@NullMarked
package dev.keel.app;

import org.jspecify.annotations.NullMarked;
