/** CLI tools run in a bubblewrap sandbox with seccomp and resource limits. */
@NullMarked
package dev.keel.tools.sandbox;

import org.jspecify.annotations.NullMarked;
