/** Runs: lifecycle, the sealed event log, and the state folded from it. */
@NullMarked
package dev.keel.run;

import org.jspecify.annotations.NullMarked;
