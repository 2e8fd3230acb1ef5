export { alertMessage, alertResolvedReply, alertReturnedReply, type AlertView } from './alert';
export { approvalDecidedMessage, approvalRequestMessage, type ApprovalDecision } from './approval';
export { errorMessage, helpMessage } from './help';
export { codeBlock, escapeMrkdwn, fitBlocks, truncateText } from './limits';
export { planMessage } from './plan';
export { haltedMessage, runFinishedLine, runParentMessage, stepResultReply } from './run';
export type * from './types';
