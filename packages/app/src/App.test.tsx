import { render } from '@testing-library/react';
import App from './App';

describe('App', () => {
  it('renders and asks the visitor to sign in', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
            techdocs: {
              storageUrl: 'http://localhost:7007/api/techdocs/static/docs',
            },
          },
          context: 'test',
        },
      ] as any,
    };

    const rendered = render(App.createRoot());

    // Nobody is signed in yet: the app offers sign-in, not content.
    expect(
      await rendered.findByRole(
        'button',
        { name: 'Enter' },
        { timeout: 10000 },
      ),
    ).toBeInTheDocument();
  });
});
