// Conversation items of the GA protocol (realtime-fields.md, `item<…>`): a union discriminated by
// `type`, and for messages by `role`. Assistant content is `output_text` / `output_audio` (beta:
// `text` / `audio`, see beta.ts).

export type ItemStatus = 'completed' | 'incomplete' | 'in_progress';

interface ItemCommon {
  /** Server items always carry one; a client may set it in `conversation.item.create`. */
  id?: string;
  object?: 'realtime.item';
  status?: ItemStatus;
}

export interface InputTextContent {
  type: 'input_text';
  text?: string;
}
export interface InputAudioContent {
  type: 'input_audio';
  /** Base64 audio in the session's input format. */
  audio?: string;
  /** `null` until transcribed (live service; the spec says string). */
  transcript?: string | null;
}
export interface InputImageContent {
  type: 'input_image';
  image_url?: string;
  detail?: 'auto' | 'low' | 'high';
}
export interface OutputTextContent {
  type: 'output_text';
  text?: string;
}
export interface OutputAudioContent {
  type: 'output_audio';
  audio?: string;
  transcript?: string | null;
}

export type SystemContent = InputTextContent;
export type UserContent = InputTextContent | InputAudioContent | InputImageContent;
export type AssistantContent = OutputTextContent | OutputAudioContent;
export type ItemContent = UserContent | AssistantContent;

export interface SystemMessageItem extends ItemCommon {
  type: 'message';
  role: 'system';
  content: SystemContent[];
}
export interface UserMessageItem extends ItemCommon {
  type: 'message';
  role: 'user';
  content: UserContent[];
}
export interface AssistantMessageItem extends ItemCommon {
  type: 'message';
  role: 'assistant';
  content: AssistantContent[];
}
export type MessageItem = SystemMessageItem | UserMessageItem | AssistantMessageItem;

export interface FunctionCallItem extends ItemCommon {
  type: 'function_call';
  call_id?: string;
  name: string;
  /** JSON text; `""` while the model is still generating it. */
  arguments: string;
}
export interface FunctionCallOutputItem extends ItemCommon {
  type: 'function_call_output';
  call_id: string;
  /** Usually JSON text. */
  output: string;
}

export interface McpApprovalResponseItem {
  type: 'mcp_approval_response';
  id: string;
  approval_request_id: string;
  approve: boolean;
  reason?: string | null;
}
export interface McpToolDescription {
  name: string;
  description?: string | null;
  input_schema: Record<string, unknown>;
  annotations?: Record<string, unknown> | null;
}
export interface McpListToolsItem {
  type: 'mcp_list_tools';
  id?: string;
  server_label: string;
  tools: McpToolDescription[];
}
export type McpCallError =
  | { type: 'protocol_error'; code: number; message: string }
  | { type: 'tool_execution_error'; message: string }
  | { type: 'http_error'; code: number; message: string };
export interface McpCallItem {
  type: 'mcp_call';
  id: string;
  server_label: string;
  name: string;
  arguments: string;
  approval_request_id?: string | null;
  output?: string | null;
  error?: McpCallError | null;
}
export interface McpApprovalRequestItem {
  type: 'mcp_approval_request';
  id: string;
  server_label: string;
  name: string;
  arguments: string;
}

export type RealtimeItem =
  | MessageItem
  | FunctionCallItem
  | FunctionCallOutputItem
  | McpApprovalResponseItem
  | McpListToolsItem
  | McpCallItem
  | McpApprovalRequestItem;

/** Only in `response.create.response.input`: a pointer to an item already in the conversation. */
export interface ItemReference {
  type: 'item_reference';
  id: string;
}

export type ItemType = RealtimeItem['type'];

export function isAssistantMessage(item: RealtimeItem): item is AssistantMessageItem {
  return item.type === 'message' && item.role === 'assistant';
}
