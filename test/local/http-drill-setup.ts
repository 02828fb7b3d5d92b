/**
 * What README's "Drill an http target" shows, as the http drill e2e (test/local/http-drill.e2e.test.ts)
 * runs it: the shipped table's Slack target configured at a loopback receiver, the time scale, the
 * route and target, and the receiver's failing answer. test/readme-commands.test.ts checks that
 * README's commands say exactly this, so README cannot drift from the drill that is run.
 */
export const HTTP_DRILL = {
  route: 'video-uploads',
  target: 'slack',
  timeScale: 100,
  /** What the receiver answers while it fails (README: `--fail-first`, then `--status 503`). */
  failingStatus: 503,
  /** `npx cdk synth -c …`: the receiver's URL (README's port, the e2e's free one) and a secret the pipeline never reads. */
  context: (receiverUrl: string): Record<string, string> => ({
    slackWebhookUrl: `${receiverUrl}/hook`,
    slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:drill-AbCdEf',
  }),
} as const;
