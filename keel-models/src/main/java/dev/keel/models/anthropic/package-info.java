/** Adapter for the Anthropic Messages API. */
@NullMarked
package dev.keel.models.anthropic;

import org.jspecify.annotations.NullMarked;
