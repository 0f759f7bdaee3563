/**
 * Adapter for the AWS Bedrock Converse with converse-stream event-stream decoding and SigV4
 * signing, JDK only.
 */
@NullMarked
package dev.keel.models.bedrock;

import org.jspecify.annotations.NullMarked;
