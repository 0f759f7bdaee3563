/** Adapter for the OpenAI Responses API. */
@NullMarked
package dev.keel.models.openairesponses;

import org.jspecify.annotations.NullMarked;
