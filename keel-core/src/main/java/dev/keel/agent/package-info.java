/** Agent definitions as the engine sees them. */
@NullMarked
package dev.keel.agent;

import org.jspecify.annotations.NullMarked;
