/** Adapter for the Google Gemini generateContent and streamGenerateContent. */
@NullMarked
package dev.keel.models.gemini;

import org.jspecify.annotations.NullMarked;
